#!/bin/bash
# measure.sh BIN: best of two CPU (user + sys) times, s per million requests, each balancer
# and size (the machine is shared, so CPU time rather than wall time).
bin=$1
for b in shared_queue round_robin least_connections random power_of_two; do
  line="$b"
  for n in 64 4096 100000; do
    best=999
    for i in 1 2; do
      /usr/bin/time -o /tmp/t.txt -f "%U %S" timeout 100 $bin run scale-$b-$n.toml --quiet --threads 1 --out /tmp/out-$b-$n >/dev/null 2>&1; t=$(tail -n 1 /tmp/t.txt)
      t=$(python3 -c "u,s='$t'.split()[-2:]; print(float(u)+float(s))" 2>/dev/null || echo 999)
      best=$(python3 -c "print(min($best,$t))")
    done
    req=$(python3 -c "print(10 if $n==100000 else 2)")
    line="$line $(python3 -c "print(round($best/$req,3))")"
  done
  echo $line
done

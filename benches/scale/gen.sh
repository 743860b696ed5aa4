#!/bin/sh
# gen.sh BALANCER N REQUESTS -> scale-BALANCER-N.toml: N one-slot containers at 90% load,
# exponential service of mean 0.1 s, static N replicas, REQUESTS expected arrivals.
b=$1; n=$2; req=$3
rate=$(python3 -c "print(9*$n)")
dur=$(python3 -c "print(round($req/(9*$n), 3))")
cat > scale-$b-$n.toml <<T
name = "scale-$b-$n"
seed = 1
duration = $dur
interval = "10s"
[workload]
type = "poisson"
rate = $rate
[service]
distribution = "exponential"
mean = "100ms"
[cluster]
load_balancer = "$b"
min_replicas = $n
max_replicas = $n
initial_replicas = $n
[cost]
replica_hour = 0.04
slo_latency = "500ms"
violation_penalty = 0.0001
[[policy]]
name = "fixed"
type = "static"
replicas = $n
T

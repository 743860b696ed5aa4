//! Named random streams.
//!
//! Every random number in a run comes from a stream seeded by (scenario seed, replication,
//! stream name), so a run's results never depend on thread scheduling or on which other runs
//! share the process. Within a replication every policy opens the same `arrivals` and `service`
//! streams and so sees identical arrival times and identical service-time draws per request
//! (common random numbers).

use rand::SeedableRng;

/// The generator behind every stream: xoshiro256++, fast, with a fixed and documented output
/// sequence (so results do not change when the `rand` crate changes its default generator).
pub type SimRng = rand_xoshiro::Xoshiro256PlusPlus;

/// Stream of arrival times (workload generators and trace replay).
pub const ARRIVALS: &str = "arrivals";
/// Stream of service-time draws, one per request in arrival order.
pub const SERVICE: &str = "service";
/// Stream of the load balancer's random choices (`random`, `power_of_two`).
pub const BALANCER: &str = "balancer";
/// Stream of container start-up delays, when they are random.
pub const STARTUP: &str = "startup";
/// Stream of container failure draws (`[faults]`): time to failure and restart delay, per
/// container created.
pub const FAULTS: &str = "faults";

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a hash of a stream name (stable across platforms and Rust versions).
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The 64-bit seed of stream `name` in replication `replication` of a scenario seeded `seed`.
pub fn stream_seed(seed: u64, replication: u32, name: &str) -> u64 {
    mix(mix(seed)
        ^ mix(u64::from(replication).wrapping_add(0x5851_F42D_4C95_7F2D))
        ^ name_hash(name))
}

/// Opens stream `name` of replication `replication`.
pub fn stream(seed: u64, replication: u32, name: &str) -> SimRng {
    SimRng::seed_from_u64(stream_seed(seed, replication, name))
}

/// Sub-stream `index` of a stream seeded `base`: for a source that cuts its draws into
/// independent pieces (the seconds of a diurnal workload), so that any piece can be drawn
/// without the ones before it.
pub fn substream(base: u64, index: u64) -> SimRng {
    SimRng::seed_from_u64(mix(base ^ mix(index.wrapping_add(0x632B_E59B_D9B4_E019))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, 0, ARRIVALS).random();
        let b: u64 = stream(7, 0, ARRIVALS).random();
        assert_eq!(a, b);
        let seeds = [
            stream_seed(7, 0, ARRIVALS),
            stream_seed(7, 0, SERVICE),
            stream_seed(7, 1, ARRIVALS),
            stream_seed(8, 0, ARRIVALS),
        ];
        for i in 0..seeds.len() {
            for j in i + 1..seeds.len() {
                assert_ne!(seeds[i], seeds[j]);
            }
        }
    }
}

//! Seeded randomness, small enough to read: splitmix64 decides which datagrams are lost, so that
//! the same seed and the same datagrams lose the same ones, on every machine, every time.

use common::random::SplitMix64;

#[derive(Clone, Debug)]
pub struct Loss {
    fraction: f64,
    coin: SplitMix64,
}

impl Loss {
    pub fn new(fraction: f64, seed: u64) -> Self {
        Loss {
            fraction,
            coin: SplitMix64::new(seed),
        }
    }

    /// One independent `Loss` per direction, both from one seed: which replies are lost then
    /// does not depend on how requests and replies happen to interleave.
    pub fn pair(fraction: f64, seed: u64) -> (Loss, Loss) {
        let mut seeds = SplitMix64::new(seed);
        (
            Loss::new(fraction, seeds.next_u64()),
            Loss::new(fraction, seeds.next_u64()),
        )
    }

    /// Whether the next datagram is lost. With a fraction of 0 none is, with 1 all are.
    pub fn drop_next(&mut self) -> bool {
        self.coin.next_fraction() < self.fraction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_drops_the_same_datagrams() {
        let decide = |seed| {
            let mut loss = Loss::new(0.3, seed);
            (0..100).map(|_| loss.drop_next()).collect::<Vec<_>>()
        };
        assert_eq!(decide(7), decide(7));
        assert_ne!(decide(7), decide(8));
    }

    #[test]
    fn the_fraction_dropped_is_near_the_one_asked_for() {
        let mut loss = Loss::new(0.25, 42);
        let dropped = (0..10_000).filter(|_| loss.drop_next()).count();
        assert!((2_300..2_700).contains(&dropped), "{dropped}");
    }

    #[test]
    fn nothing_and_everything() {
        let mut none = Loss::new(0.0, 1);
        let mut all = Loss::new(1.0, 1);
        assert!((0..1000).all(|_| !none.drop_next()));
        assert!((0..1000).all(|_| all.drop_next()));
    }

    #[test]
    fn the_two_directions_decide_differently() {
        let (mut up, mut down) = Loss::pair(0.5, 9);
        let up: Vec<bool> = (0..64).map(|_| up.drop_next()).collect();
        let down: Vec<bool> = (0..64).map(|_| down.drop_next()).collect();
        assert_ne!(up, down);
    }
}

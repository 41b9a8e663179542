//! Seeded randomness, small enough to read: splitmix64 decides which datagrams are lost, so that
//! the same seed and the same datagrams lose the same ones, on every machine, every time.

/// splitmix64 (Steele, Lea and Flood, 2014): a 64-bit counter stepped by a fixed odd constant,
/// then scrambled. Not for secrets; plenty for deciding drops.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1): the top 53 bits, which is all an `f64` holds.
    pub fn next_fraction(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Drops `fraction` of what it is asked about, by a seeded coin.
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
    fn splitmix64_gives_the_published_sequence() {
        // The reference implementation's first outputs for seed 1234567.
        let mut random = SplitMix64::new(1_234_567);
        let first: Vec<u64> = (0..3).map(|_| random.next_u64()).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn fractions_stay_in_the_unit_interval() {
        let mut random = SplitMix64::new(0);
        assert!((0..10_000).all(|_| (0.0..1.0).contains(&random.next_fraction())));
    }

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

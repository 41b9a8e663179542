//! A tiny seeded random number generator (SplitMix64): the same seed gives the same run, and
//! every connection gets a generator of its own, so that the run repeats whatever order the
//! threads happen to go in.

use common::random::SplitMix64;

/// common's SplitMix64, with what the soak asks of it: ranges, chances, sizes and bytes, and a
/// generator of its own for each connection.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    /// The generator for connection (or file) number `stream`, independent of the others.
    pub fn fork(&self, stream: u64) -> Rng {
        let mut mixed = SplitMix64::new(self.0.0 ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        Rng::new(mixed.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number from `low` to `high`, both included.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        let span = (high - low) as u64 + 1;
        low + (self.next_u64() % span) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A size from 1 to `max`, spread evenly over the powers of two: as many sizes of 1–2 bytes
    /// as of 32–64 KiB. (Evenly over the bytes, almost every message would be tens of KiB.)
    pub fn size(&mut self, max: usize) -> usize {
        let bits = usize::BITS - max.leading_zeros();
        let ceiling = 1usize << self.range(0, bits as usize - 1);
        self.range(1, ceiling.min(max))
    }

    /// `length` random bytes.
    pub fn bytes(&mut self, length: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(length + 8);
        while bytes.len() < length {
            bytes.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        bytes.truncate(length);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
        assert_ne!(
            Rng::new(7).fork(1).next_u64(),
            Rng::new(7).fork(2).next_u64()
        );
    }

    #[test]
    fn sizes_stay_in_bounds_and_cover_small_and_large() {
        let mut rng = Rng::new(1);
        let sizes: Vec<usize> = (0..10_000).map(|_| rng.size(64 * 1024)).collect();
        assert!(sizes.iter().all(|&size| (1..=64 * 1024).contains(&size)));
        assert!(sizes.contains(&1));
        assert!(sizes.iter().any(|&size| size > 60 * 1024));
        assert!(sizes.iter().filter(|&&size| size <= 1024).count() > 4000);
    }

    #[test]
    fn ranges_include_both_ends() {
        let mut rng = Rng::new(3);
        let values: Vec<usize> = (0..1000).map(|_| rng.range(2, 4)).collect();
        assert!(values.iter().all(|v| (2..=4).contains(v)));
        assert!(values.contains(&2) && values.contains(&4));
        assert_eq!(rng.bytes(13).len(), 13);
    }
}

//! The part of rand 0.4's API that HumanEval-X's Rust tests call: `thread_rng()`, `random()`, and `Rng` with
//! `gen`, two-argument `gen_range`, `gen_bool`, `shuffle` and `choose`. HumanEval-X pins rand 0.4; Debian ships only
//! 0.8, whose `gen_range` takes a range, so the benchmark's own tests would not compile against it. Statistical
//! quality is not needed here: tests draw a few hundred numbers. Built by CodeLm's Rust runner as crate `rand`.
use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local!(static STATE: Cell<u64> = Cell::new(seed()));

fn seed() -> u64 {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    t ^ ((&t as *const u64) as u64).rotate_left(32)
}

// splitmix64: one add and three mixes per draw, every seed usable.
fn next() -> u64 {
    STATE.with(|s| {
        let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A type `Rng::gen` can produce.
pub trait Rand: Sized {
    fn rand<R: Rng + ?Sized>(rng: &mut R) -> Self;
}

/// A type `Rng::gen_range` can draw from `[low, high)`.
pub trait SampleRange: Sized + PartialOrd {
    fn sample<R: Rng + ?Sized>(low: Self, high: Self, rng: &mut R) -> Self;
}

pub trait Rng {
    fn next_u64(&mut self) -> u64;

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn gen<T: Rand>(&mut self) -> T where Self: Sized {
        T::rand(self)
    }

    fn gen_range<T: SampleRange>(&mut self, low: T, high: T) -> T where Self: Sized {
        assert!(low < high, "Rng::gen_range called with low >= high");
        T::sample(low, high, self)
    }

    fn gen_bool(&mut self, p: f64) -> bool where Self: Sized {
        f64::rand(self) < p
    }

    fn shuffle<T>(&mut self, values: &mut [T]) where Self: Sized {
        for i in (1..values.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            values.swap(i, j);
        }
    }

    fn choose<'a, T>(&mut self, values: &'a [T]) -> Option<&'a T> where Self: Sized {
        if values.is_empty() { None } else { Some(&values[(self.next_u64() % values.len() as u64) as usize]) }
    }
}

/// The per-thread generator; every handle draws from the same thread-local state.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadRng;

impl Rng for ThreadRng {
    fn next_u64(&mut self) -> u64 {
        next()
    }
}

pub fn thread_rng() -> ThreadRng {
    ThreadRng
}

pub fn random<T: Rand>() -> T {
    ThreadRng.gen()
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl Rand for $t {
            fn rand<R: Rng + ?Sized>(rng: &mut R) -> Self { rng.next_u64() as $t }
        }
        impl SampleRange for $t {
            fn sample<R: Rng + ?Sized>(low: Self, high: Self, rng: &mut R) -> Self {
                let span = (high as i128 - low as i128) as u128;
                (low as i128 + (rng.next_u64() as u128 % span) as i128) as $t
            }
        }
    )*};
}
integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Rand for f64 {
    fn rand<R: Rng + ?Sized>(rng: &mut R) -> Self { (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 }
}

impl Rand for f32 {
    fn rand<R: Rng + ?Sized>(rng: &mut R) -> Self { (rng.next_u64() >> 40) as f32 / (1u32 << 24) as f32 }
}

impl SampleRange for f64 {
    fn sample<R: Rng + ?Sized>(low: Self, high: Self, rng: &mut R) -> Self { low + (high - low) * f64::rand(rng) }
}

impl SampleRange for f32 {
    fn sample<R: Rng + ?Sized>(low: Self, high: Self, rng: &mut R) -> Self { low + (high - low) * f32::rand(rng) }
}

impl Rand for bool {
    fn rand<R: Rng + ?Sized>(rng: &mut R) -> Self { rng.next_u64() & 1 == 1 }
}

impl Rand for char {
    fn rand<R: Rng + ?Sized>(rng: &mut R) -> Self {
        loop {
            if let Some(c) = char::from_u32((rng.next_u64() % 0x11_0000) as u32) { return c; }
        }
    }
}

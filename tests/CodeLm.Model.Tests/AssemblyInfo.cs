// Torch's RNG (manual_seed) and the checkpoint fault hook are process-wide: tests that seed or inject must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

"""Is the GAN working? Offline quality metrics of generated samples and alarms on a run's metrics.

- `classifier`: a LeNet-style classifier trained once per dataset and cached (the offline Inception);
- `embedding`: a small CNN with fixed random weights, the download-free feature space of any pictures;
- `metrics`: FID, KID (torchmetrics), Inception Score, coverage, KL to uniform, diversity, near-duplicates,
  conditional accuracy, k-NN precision / recall / density / coverage;
- `evaluator`: `Evaluator`, one eval.csv row from a generator;
- `alarms`: `AlarmMonitor`, mode collapse / discriminator wins / divergence / oscillation;
- `tracker`: `QualityTracker`, what the trainer holds: evaluation schedule, best score, alarm events.

Nothing is imported here: torchmetrics takes a second to import and only evaluations need it.
"""

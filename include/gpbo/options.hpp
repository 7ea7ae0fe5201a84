#pragma once
/// The options of a study, in one place: the engine's (StudyOptions), a stored study's
/// (PersistenceOptions) and a long-lived server's (WarmModelOptions), with the one JSON codec
/// every front door and store uses (study_options_to_json / study_options_from_json, driven by
/// one table of every option: src/codec/option_table.cpp).

#include <cstdint>
#include <string>

#include "gpbo/acquisition.hpp"
#include "gpbo/device.hpp"
#include "gpbo/kernel.hpp"
#include "gpbo/metrics.hpp"
#include "gpbo/trust_region.hpp"

namespace gpbo {

/// How observations are treated: deterministic (the incumbent is the best observed value),
/// noisy (the incumbent is the best posterior mean at an observed point), or auto (noisy when
/// the fitted noise explains more than 5% of the variance of y).
enum class NoiseModel { kAuto, kDeterministic, kNoisy };
/// "auto", "deterministic", "noisy". Throws InvalidArgument.
NoiseModel parse_noise_model(const std::string& text);
std::string to_string(NoiseModel n);

/// Output warpings: none; half-rank (values worse than the median replaced by normal quantiles
/// of their ranks, scaled by the spread of the better half); log (compress the bad tail).
enum class OutputWarping { kNone, kHalfRank, kLog };
/// "none", "halfrank", "log". Throws InvalidArgument.
OutputWarping parse_output_warping(const std::string& text);
std::string to_string(OutputWarping w);

/// Outlier handling (see Study::outliers()). Trials whose value the fitted GP finds implausible
/// (a leave-one-out residual beyond a Bonferroni bound at 1%, at most a fifth of the trials) are
/// left out of the model and listed, never deleted. kAuto: in fits of 10 to 2,000 observations
/// (below, a residual means little; above, the O(n^3) check costs more than it is worth); kOn:
/// in every fit of 5 observations or more; kOff: never.
enum class RobustMode { kAuto, kOn, kOff };
/// "auto", "on", "off". Throws InvalidArgument.
RobustMode parse_robust_mode(const std::string& text);
std::string to_string(RobustMode m);

/// How ask(q) chooses q points at once. kGreedy: sequential greedy maximization of the
/// acquisition, each chosen point fantasized at its posterior mean (kriging believer);
/// kQLogNei: greedy over candidates of the joint qLogNEI (QMC, fixed Sobol base samples), for
/// noisy objectives; kThompson: each point maximizes one exact joint posterior draw over a
/// candidate set. kAuto: greedy up to q = 16 (qLogNEI for 2 <= q <= 16 if the observations
/// look noisy), Thompson above.
enum class BatchMethod { kAuto, kGreedy, kQLogNei, kThompson };
/// "auto", "greedy", "qlognei", "thompson". Throws InvalidArgument.
BatchMethod parse_batch_method(const std::string& text);
std::string to_string(BatchMethod m);

/// Where the model looks for the next points. kGlobal: the acquisition over the whole box.
/// kTrustRegion: inside a box around the incumbent that grows and shrinks with success (TuRBO,
/// Eriksson et al. 2019; see TrustRegionOptions). kAuto: the trust region from
/// `StudyOptions::trust_region.auto_min_dim` parameters up, global below.
enum class Strategy { kAuto, kGlobal, kTrustRegion };
/// "auto", "global", "trust-region" (or "trust_region", "turbo"). Throws InvalidArgument.
Strategy parse_strategy(const std::string& text);
std::string to_string(Strategy s);

/// The rule that answers an intermediate value (Study::report) with whether to stop the trial.
/// kMedian: Optuna's MedianPruner; kAsha: asynchronous successive halving (Li et al. 2020);
/// kNone: never (the values are still kept). See PrunerOptions.
enum class PrunerRule { kNone, kMedian, kAsha };
/// "none", "median", "asha". Throws InvalidArgument.
PrunerRule parse_pruner_rule(const std::string& text);
std::string to_string(PrunerRule r);

/// Early stopping (src/engine/pruner.cpp has the rules, README "Early stopping" their words).
struct PrunerOptions {
  /// Median by default, with Optuna's defaults: reporting is opt-in, and the answer is advice a
  /// worker may ignore, so a study that never reports never prunes.
  PrunerRule rule = PrunerRule::kMedian;
  /// Median: no pruning until this many trials are complete.
  int startup_trials = 5;
  /// Median: no pruning at steps below this one.
  int warmup_steps = 0;
  /// ASHA: eta; rungs at min_resource * eta^k, the best 1/eta of a rung go on.
  int reduction_factor = 3;
  /// ASHA: the step of the first rung.
  int min_resource = 1;
};

/// Whether the objective may change over time (issue 19, part 2; README "Drift"). kOff: the
/// model treats every observation alike (most objectives are static). kAuto: the GP gets a
/// time input, the trial's completion order, with its own lengthscale fitted under a prior that
/// prefers a static function, so older observations weigh less only when the data say so; the
/// incumbent is re-evaluated now and then and a re-evaluation far off the model's prediction is
/// recorded as a shift (see DriftOptions). With drift the model sees the values unwarped
/// (output_warping is not applied: it ranks values over the whole history, mixing periods).
enum class DriftMode { kOff, kAuto };
/// "off", "auto". Throws InvalidArgument.
DriftMode parse_drift_mode(const std::string& text);
std::string to_string(DriftMode m);

/// Re-tuning when the objective changes over time (src/engine/drift.cpp).
struct DriftOptions {
  /// Off by default: most objectives are static, and drift spends evaluations on
  /// re-evaluations.
  DriftMode mode = DriftMode::kOff;
  /// With drift on, the model-based trial whose id + 1 is a multiple of this re-evaluates the
  /// incumbent (at most one per batch); 0: never. 10 spends a tenth of the model-based
  /// evaluations on checking that the best configuration is still as good.
  int reevaluate_every = 10;
  /// A re-evaluation whose standardized leave-one-out residual |z| exceeds this is a shift. 3:
  /// under Gaussian noise and a well-specified model a stationary objective crosses it with
  /// probability 0.27% per re-evaluation (two-sided).
  double shift_threshold = 3.0;
};

/// The engine's options. Every field is carried by the JSON codec below (a test counts them).
struct StudyOptions {
  /// The objective's direction in the classic study. With metrics each objective has its own,
  /// and a study takes the first's (with_objective_direction).
  Direction direction = Direction::kMinimize;
  /// Several objectives and outcome constraints (gpbo/metrics.hpp); empty: one objective, told
  /// as a plain value.
  Metrics metrics;
  std::uint64_t seed = 0;
  /// Size of the Sobol initial design; 0 picks a size that grows with the dimension.
  int n_initial = 0;
  AcquisitionType acquisition = AcquisitionType::kLogEI;
  /// UCB exploration weight: mean + sqrt(beta) * stddev.
  double ucb_beta = 4.0;
  NoiseModel noise = NoiseModel::kAuto;
  BatchMethod batch_method = BatchMethod::kAuto;
  Strategy strategy = Strategy::kAuto;
  TrustRegionOptions trust_region;
  /// Monotone warping of the observed values before the GP fit (see warp_outputs()); the
  /// order of the values, and so the incumbent, is unchanged.
  OutputWarping output_warping = OutputWarping::kHalfRank;
  /// Strength s of the log warp (> 1; <= 1 leaves the values as they are).
  double warp_strength = 1000.0;
  /// Outlier handling of the model, and the robust scale of the output transform
  /// (robust_outputs()).
  RobustMode robust = RobustMode::kAuto;
  GpOptions gp;
  AcquisitionOptimizerOptions optimizer;
  Device device = Device::automatic();
  /// Precision of the GPU's batched candidate scoring (see ScorePrecision; the CPU ignores it).
  ScorePrecision score_precision = ScorePrecision::kDouble;
  /// Early stopping of trials that report intermediate values.
  PrunerOptions pruner;
  /// Objectives that change over time.
  DriftOptions drift;
};

/// Throws InvalidArgument for options a Study refuses (the checks of its constructor).
void check_study_options(const StudyOptions& options);
/// `options` with `direction` set to the first objective's when there are metrics (what a
/// Study, a stored study and the front doors use).
StudyOptions with_objective_direction(StudyOptions options);
/// Sets the direction given apart from the options (an argument of a front door);
/// InvalidArgument when the first objective of the metrics goes the other way.
void set_direction(StudyOptions* options, Direction d);

/// How a stored study treats its running trials.
struct PersistenceOptions {
  /// A RUNNING trial without a heartbeat for this long is marked FAILED at the next ask.
  double lease_seconds = 3600.0;
  /// Whether an expired trial's point is queued again (source "requeued").
  bool requeue_expired = false;
};

/// Throws InvalidArgument unless lease_seconds is positive and finite.
void check_persistence_options(const PersistenceOptions& options);

/// How a long-lived process (gpbo serve) keeps a study's model warm between asks. An option of
/// the process, not of a study: never stored.
struct WarmModelOptions {
  /// A refit starts in the background once the complete trials have grown since the last fit
  /// by this share of the last fit's size (at least one trial) ...
  double refit_growth = 0.1;
  /// ... or by this many trials, whichever comes first.
  int refit_every = 25;
};
/// Throws InvalidArgument unless refit_growth >= 0 and refit_every >= 1.
void check_warm_model_options(const WarmModelOptions& options);

/// The JSON object of a study's options, every field of both structs: e.g. {"direction":
/// "minimize", "seed": 0, "acquisition": "logei", "kernel": "matern52", "device": "auto",
/// "trust_region": {"length_init": 0.8, ...}, "gp": {"n_starts": 3, ...}, "optimizer":
/// {"raw_samples": 1024, ...}, "lease_seconds": 3600, "requeue_expired": false, ...}.
std::string study_options_to_json(const StudyOptions& options,
                                  const PersistenceOptions& persistence = {});
/// Parses that object into `options` and `persistence`. Missing keys keep the values already
/// there; unknown keys, values of the wrong type or out of range throw InvalidArgument, and the
/// result is checked with check_study_options and check_persistence_options.
void study_options_from_json(const std::string& json, StudyOptions* options,
                             PersistenceOptions* persistence);

}  // namespace gpbo

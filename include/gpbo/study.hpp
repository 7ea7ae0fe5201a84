#pragma once
/// Ask/tell optimization of a black box over a Space (Vizier's Designer.suggest/update, Optuna's
/// ask/tell): a Sobol initial design, then a GP surrogate and an acquisition function.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gpbo/acquisition.hpp"
#include "gpbo/device.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/space.hpp"

namespace gpbo {

class PosteriorFactor;

enum class Direction { kMinimize, kMaximize };
enum class TrialState { kRunning, kComplete, kFailed, kPruned };

/// "minimize"/"maximize"; "running"/"complete"/"failed"/"pruned".
Direction parse_direction(const std::string& text);
std::string to_string(Direction d);
std::string to_string(TrialState s);
TrialState parse_trial_state(const std::string& text);

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
/// "none", "halfrank", "log".
OutputWarping parse_output_warping(const std::string& text);
std::string to_string(OutputWarping w);

/// How ask(q) chooses q points at once. kGreedy: sequential greedy maximization of the
/// acquisition, each chosen point fantasized at its posterior mean (kriging believer);
/// kQLogNei: greedy over candidates of the joint qLogNEI (QMC, fixed Sobol base samples), for
/// noisy objectives; kThompson: each point maximizes one exact joint posterior draw over a
/// candidate set. kAuto: greedy up to q = 16 (qLogNEI for 2 <= q <= 16 if the observations
/// look noisy), Thompson above.
enum class BatchMethod { kAuto, kGreedy, kQLogNei, kThompson };
/// "auto", "greedy", "qlognei", "thompson".
BatchMethod parse_batch_method(const std::string& text);
std::string to_string(BatchMethod m);
/// The method kAuto picks for a batch of q points.
BatchMethod resolve_batch_method(BatchMethod requested, int q, bool noisy);

/// Where the model looks for the next points. kGlobal: the acquisition over the whole box.
/// kTrustRegion: inside a box around the incumbent that grows and shrinks with success (TuRBO,
/// Eriksson et al. 2019; see TrustRegionOptions). kAuto: the trust region from
/// `StudyOptions::trust_region.auto_min_dim` parameters up, global below.
enum class Strategy { kAuto, kGlobal, kTrustRegion };
/// "auto", "global", "trust-region" (or "trust_region", "turbo"). Throws InvalidArgument.
Strategy parse_strategy(const std::string& text);
std::string to_string(Strategy s);

/// Settings of the acquisition optimizer.
struct AcquisitionOptimizerOptions {
  /// Scrambled Sobol points scored per ask.
  int raw_samples = 1024;
  /// Perturbations scored around each of the best observed points.
  int perturbations_per_anchor = 64;
  /// Best observed points used as anchors.
  int anchors = 5;
  /// Best raw candidates refined by L-BFGS-B.
  int restarts = 8;
  int refine_iterations = 100;
};

/// Most trust regions a study keeps at once (TrustRegionOptions::n_regions).
inline constexpr int kMaxTrustRegions = 64;

/// Settings of the trust-region strategy (defaults from TuRBO-1, Eriksson et al. 2019).
struct TrustRegionOptions {
  /// Region side length L relative to the unit cube: initial, minimum (a smaller region
  /// restarts), maximum.
  double length_init = 0.8;
  double length_min = 0.0078125;  // 0.5^7
  double length_max = 1.6;
  /// Consecutive successful batches before L doubles.
  int success_tolerance = 3;
  /// Consecutive failed batches before L halves; 0 picks ceil(max(4/q, d/q)).
  int failure_tolerance = 0;
  /// A batch succeeds when it beats the region's best by this share of |best| (TuRBO: 1e-3).
  double success_margin = 1e-3;
  /// Candidates drawn in the region per ask; 0 picks min(5000, max(2000, 200 d)).
  int n_candidates = 0;
  /// The GP is fitted on at most this many complete trials, those nearest the region's centre
  /// (0: all). Bounds the O(n^3) fit when the history is long.
  int max_points = 1000;
  /// kAuto uses the trust region when the space has at least this many parameters.
  int auto_min_dim = 40;
  /// Regions kept at once (TuRBO-m). Each has its own centre, length and counts (its failure
  /// tolerance sized for q / n_regions points per batch) and its own local GP once the history
  /// exceeds max_points; a batch is split among them by Thompson sampling across the regions'
  /// candidates (n_candidates shared out), so the most promising regions get most points.
  /// More than one region needs Thompson sampling (batch_method auto or thompson).
  int n_regions = 1;
};

/// The state of a trust region, kept by a Study and carried by a stored study between asks.
struct TrustRegionState {
  /// Side length L of the region (before lengthscale weighting).
  double length = 0.8;
  int success_count = 0;
  int failure_count = 0;
  /// How many times the region collapsed and restarted.
  int restarts = 0;
  /// The encoded centre (unit cube, length Space::encoded_dim()).
  Eigen::VectorXd center;
  /// The best objective value seen in this region (in the study's own direction); empty right
  /// after a restart, until the first batch of the new region is complete.
  std::optional<double> best_value;
  /// Trials with an id at or above this one belong to the current region.
  std::int64_t region_start = 0;
  /// Complete trials already counted by the last update (with several regions: of the
  /// region's own trials).
  std::int64_t n_seen = 0;
  /// With several regions: the trials this region suggested since it (re)started. With one
  /// region every trial from region_start on is the region's, and this stays empty.
  std::vector<std::int64_t> members;
};

/// JSON object text of a state, and back (InvalidArgument on malformed text or a centre of the
/// wrong length `dim`; dim < 0 skips that check).
std::string trust_region_state_to_json(const TrustRegionState& s);
TrustRegionState trust_region_state_from_json(const std::string& text, int dim = -1);

struct StudyOptions {
  Direction direction = Direction::kMinimize;
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
  /// Strength s of the log warp.
  double warp_strength = 1000.0;
  GpOptions gp;
  AcquisitionOptimizerOptions optimizer;
  Device device = Device::automatic();
  /// Precision of the GPU's batched candidate scoring (see ScorePrecision; the CPU ignores it).
  ScorePrecision score_precision = ScorePrecision::kDouble;
};

/// Throws InvalidArgument for options a Study refuses (the checks of its constructor).
void check_study_options(const StudyOptions& options);

/// One evaluation of the objective. `value` is set once the trial is complete.
struct Trial {
  std::int64_t id = 0;
  Params params;
  TrialState state = TrialState::kRunning;
  std::optional<double> value;
  /// "initial", "model" or "enqueued".
  std::string source;
};

/// A single-process study. Not thread-safe: one caller at a time.
class Study {
 public:
  /// Throws InvalidArgument for an empty space or bad options, BackendUnavailable for a device
  /// that cannot be used.
  explicit Study(Space space, StudyOptions options = {});
  ~Study();
  Study(Study&&) noexcept;
  Study& operator=(Study&&) noexcept;

  /// Suggests the next point and records it as a RUNNING trial: ask(1).front(). The reference
  /// is valid until the next ask.
  const Trial& ask();
  /// Suggests q points at once, recorded as RUNNING trials: enqueued points first, then the
  /// initial design, then the model's batch (see BatchMethod). Every running trial is
  /// conditioned on, and no suggested point repeats a trial or another point of the batch
  /// (enqueued points are returned as given, even when they repeat one: a re-evaluation). Returns
  /// fewer than q trials when fewer distinct points are left; throws Conflict when none is left,
  /// and InvalidArgument for q < 1.
  std::vector<Trial> ask(int q);
  /// Completes a running trial. A non-finite value marks it FAILED and the study goes on.
  /// Telling the same value again is a no-op; another value is a Conflict. Unknown id: NotFound.
  void tell(std::int64_t trial_id, double value);
  /// Marks a running trial FAILED (its point is not modelled). Conflict if it is complete.
  void tell_failed(std::int64_t trial_id);
  /// Queues a point to be returned by a coming ask() before any suggestion. Validated against
  /// the space now (InvalidArgument).
  void enqueue(const Params& params);

  /// Records a trial that ran elsewhere (restoring a study from a store): validated against
  /// the space; kComplete needs a finite value. Returns the new trial's id. Throws
  /// InvalidArgument.
  std::int64_t add_trial(const Params& params, TrialState state,
                         std::optional<double> value = std::nullopt,
                         const std::string& source = "restored");
  /// Restarts the model's random stream at (seed, stream) without touching the initial design,
  /// so that a study rebuilt in another process draws fresh but reproducible numbers.
  void reseed(std::uint64_t stream);
  /// Hyperparameters to warm-start the next fit from (a fit of an earlier process).
  void set_warm_start(const GpHyperparameters& h) { last_hyper_ = h; }
  /// The last fit's hyperparameters, if any (standardized scale).
  const std::optional<GpHyperparameters>& warm_start() const { return last_hyper_; }
  /// Keeps `h` for the coming asks: the GP is conditioned on it (one Cholesky factorization)
  /// instead of refitted. For a long-lived process that refits on its own schedule (gpbo serve).
  void fix_hyperparameters(const GpHyperparameters& h) {
    last_hyper_ = h;
    hyper_fixed_ = true;
  }
  /// Fits the GP's hyperparameters to the complete trials (MAP, warm-started from the last fit)
  /// without suggesting anything, and keeps them as the warm start. nullopt while no trial is
  /// complete.
  std::optional<GpHyperparameters> fit_hyperparameters();

  /// The best complete trial, if any.
  std::optional<Trial> best() const;
  const std::vector<Trial>& trials() const { return trials_; }
  const Trial& trial(std::int64_t trial_id) const;
  const Space& space() const { return space_; }
  const StudyOptions& options() const { return options_; }
  /// Size of the initial design in use.
  int n_initial() const { return n_initial_; }
  /// Wall-clock seconds of every ask() so far, in order.
  const std::vector<double>& ask_seconds() const { return ask_seconds_; }
  /// The device the surrogate runs on (auto resolved).
  Device device() const;
  /// The batch method the last model-based ask used (kAuto before any).
  BatchMethod last_batch_method() const { return last_batch_method_; }
  /// The strategy in use (kAuto resolved by the space's size).
  Strategy strategy() const;
  /// The trust regions (TrustRegionOptions::n_regions of them), made by the first model-based
  /// ask of a trust-region study; empty before.
  const std::vector<TrustRegionState>& trust_regions() const { return regions_; }
  /// The first trust region (the only one unless n_regions > 1); null before there is one.
  const TrustRegionState* trust_region() const { return regions_.empty() ? nullptr : &regions_[0]; }
  /// Restores the trust regions (from a stored study). Throws InvalidArgument for a centre of
  /// the wrong length, a non-positive length or a negative member id.
  void set_trust_regions(std::vector<TrustRegionState> regions);
  void set_trust_region(const TrustRegionState& s) { set_trust_regions({s}); }
  /// Region r as encoded bounds [lower, upper] (unit cube), as the last ask used it; empty
  /// before a region exists or before a fit gave lengthscales.
  const Eigen::MatrixXd& trust_region_box(std::size_t r = 0) const;

 private:
  bool in_initial_design() const;
  void push_trial(Eigen::VectorXd u, const char* source);
  void push_trial(Params params, Eigen::VectorXd u, const char* source);
  Eigen::VectorXd suggest_initial();
  /// Adds k model-based trials.
  void suggest_from_model(int k);
  /// Adds k trials from several trust regions (n_regions > 1): one Thompson draw per region
  /// and per point, the best draw across regions wins.
  void suggest_from_trust_regions(int k);
  /// The complete trials as GP training data: encoded inputs, warped internally maximized
  /// values. With a trust region's `center` and more complete trials than max_points, only the
  /// max_points nearest the centre (a local model). Returns the indices of the trials used.
  std::vector<Eigen::Index> training_data(Eigen::MatrixXd* X, Eigen::VectorXd* y,
                                          const Eigen::VectorXd* center) const;
  /// Fits (or, with fixed hyperparameters, conditions) the GP on X, y; returns a copy of its
  /// factor.
  std::unique_ptr<PosteriorFactor> fit_and_condition(const Eigen::MatrixXd& X,
                                                     const Eigen::VectorXd& y);
  /// `factor` with the running trials appended at their posterior mean (kriging believer);
  /// raises *best_f (when given) to the largest believed value.
  std::unique_ptr<PosteriorFactor> condition_on_running(std::unique_ptr<PosteriorFactor> factor,
                                                        double* best_f) const;
  /// Candidates drawn in all trust regions together for a batch of k.
  int trust_region_candidate_count(int k) const;
  /// The first row not duplicating a trial; empty if none.
  Eigen::VectorXd first_free(const Eigen::MatrixXd& candidates) const;
  /// The distinct rows of C that are not trials.
  Eigen::MatrixXd free_rows(const Eigen::MatrixXd& C) const;
  std::optional<Eigen::VectorXd> first_unused_discrete_point() const;
  bool is_duplicate(const Eigen::VectorXd& u) const;
  /// Counts the batches completed since the last update into each trust region (grow, shrink,
  /// restart); creates the regions at the first model-based ask. `q` sizes the failure
  /// tolerance.
  void update_trust_regions(int q);
  /// Creates the regions: the first around the incumbent, the others around the best trials
  /// outside the earlier regions (a Sobol point when there is none).
  void create_trust_regions(std::int64_t n_complete);
  /// One region's update (the restart included).
  void update_trust_region(std::size_t r, int failure_tolerance, std::int64_t n_complete);
  Trial& find(std::int64_t trial_id);

  Space space_;
  StudyOptions options_;
  int n_initial_ = 0;
  std::mt19937_64 rng_;
  std::vector<Trial> trials_;
  std::vector<Eigen::VectorXd> encoded_;  // encoded params of trials_, same order
  std::deque<Params> queue_;
  std::vector<double> ask_seconds_;
  std::int64_t design_index_ = 0;
  std::unique_ptr<class SobolSampler> design_;
  std::unique_ptr<GaussianProcess> gp_;
  std::optional<GpHyperparameters> last_hyper_;
  bool hyper_fixed_ = false;
  BatchMethod last_batch_method_ = BatchMethod::kAuto;
  std::vector<TrustRegionState> regions_;
  std::vector<Eigen::MatrixXd> tr_boxes_;  // one per region, 2 x D: lower, upper
};

/// Warps internally maximized values y (higher is better); monotone non-decreasing.
/// kLog: with t = (max - y)/(max - min), -log1p((s - 1) t) / log(s).
/// kHalfRank: values below the median m become m + sigma * Phi^{-1}(rank quantile), where sigma
/// is the root-mean-square deviation of the upper half from m (after Vizier's half-rank
/// warper, Song et al. 2024, "The Vizier Gaussian Process Bandit Algorithm").
Eigen::VectorXd warp_outputs(const Eigen::VectorXd& y, OutputWarping warping, double strength);

/// Default initial-design size for an encoded dimension d.
int default_initial_design_size(int d);

}  // namespace gpbo

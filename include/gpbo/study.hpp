#pragma once
/// Ask/tell optimization of a black box over a Space (Vizier's Designer.suggest/update, Optuna's
/// ask/tell): a Sobol initial design, then a GP surrogate and an acquisition function.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gpbo/device.hpp"
#include "gpbo/kernel.hpp"
#include "gpbo/options.hpp"
#include "gpbo/space.hpp"
#include "gpbo/trial.hpp"
#include "gpbo/trust_region.hpp"
#include "gpbo/warm_start.hpp"

namespace gpbo {

class GaussianProcess;
class MetricModel;
class PosteriorFactor;
struct ResidentFactor;
class SobolSampler;
class StackedPrior;

/// The result of a study with several objectives: the feasible complete trials that no other
/// feasible complete trial dominates (at least as good in every objective, better in one), in
/// id order, and their hypervolume.
struct ParetoFront {
  std::vector<Trial> trials;
  /// One value per objective, in the objectives' units: each objective's `reference` when
  /// given, else the bound of a constraint on its worse side, else inferred: the front's worst
  /// value (its nadir), 10% of the feasible values' range beyond it. Empty with one objective.
  std::vector<double> reference_point;
  /// The volume the front dominates up to the reference point; 0 with one objective or an
  /// empty front.
  double hypervolume = 0.0;
};

/// The best complete trial of `trials` under `options` (direction, metrics): with constraints,
/// the best feasible one (nullopt when none is). InvalidArgument with several objectives: there
/// is no one best, see pareto_front().
std::optional<Trial> best_trial(const StudyOptions& options, const std::vector<Trial>& trials);
/// The Pareto front of `trials` (with one objective: every trial tied for the best feasible
/// value).
ParetoFront pareto_front(const StudyOptions& options, const std::vector<Trial>& trials);

/// The answer to an intermediate value (Study::report, PersistentStudy::report): the trial with
/// the value recorded, and whether the study's pruner (StudyOptions::pruner) says to stop it.
struct PruneAnswer {
  Trial trial;
  bool prune = false;
};

/// How much compute a study used, from its trials' times and intermediate values.
struct StudyCost {
  std::int64_t trials = 0;
  std::int64_t complete = 0;
  std::int64_t pruned = 0;
  std::int64_t failed = 0;
  std::int64_t running = 0;
  /// Trial-seconds: finished_at - created_at of every finished trial, plus now - created_at of
  /// every running one.
  double trial_seconds = 0.0;
  /// Trials that reported intermediate values.
  std::int64_t reporting = 0;
  /// The steps they spent: the sum of each one's last reported step (a step counts units of
  /// work done: epochs, batches).
  std::int64_t steps = 0;
  /// What they would have spent run to the end: each one the largest step any trial reported.
  std::int64_t steps_full = 0;
};
/// The cost of `trials` at time `now` (seconds since the epoch).
StudyCost study_cost(const std::vector<Trial>& trials, double now);

/// Where the wall time of one ask went. An ask from the queue or the initial design spends
/// (almost) all of it outside the model.
struct AskSplit {
  /// Hyperparameter searches (MAP fits, outlier rounds, the warm-start prior's weight); 0 when
  /// the ask conditions on kept hyperparameters.
  double fit = 0.0;
  /// Factorizations of the whole data with the chosen hyperparameters.
  double factor = 0.0;
  /// The rest: the candidate search, batch selection, fantasies of running trials.
  double acquisition = 0.0;
  double total = 0.0;
  /// Whether `factor` extended a factor kept from an earlier ask (Study::keep_resident_factor):
  /// appends for the trials completed since and a re-solve, not a factorization.
  bool resident = false;
};

/// A single-process study. Not thread-safe: one caller at a time.
/// The largest q of one ask, at every front door (a server's --max-batch may lower it): a
/// batch of q points costs O(q) fits of fantasies or q Thompson draws, and a runaway q (a
/// typo's 100000) would hold a study for minutes.
constexpr int kMaxAskBatch = 10000;

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
  /// and InvalidArgument for q outside 1..kMaxAskBatch.
  std::vector<Trial> ask(int q);
  /// ask(q) with some parameters pinned for this ask (like Optuna's PartialFixedSampler): every
  /// suggested point carries `fixed` exactly (merged over the space's own fixed values) and
  /// meets the constraints; the model is still fitted on every trial. Enqueued points are
  /// returned as given. Throws InvalidArgument for an unknown parameter or an invalid value
  /// (Space::with_fixed) before anything changes.
  std::vector<Trial> ask(int q, const Params& fixed);
  /// Completes a running trial with a finite value and returns it. A non-finite value is refused
  /// (InvalidArgument, nothing changes): report a trial that produced no value with
  /// tell_state(id, TrialState::kFailed). Telling the same value again is a no-op; another
  /// value, or a trial that failed or was pruned, is a Conflict unless `skip_if_finished` (then
  /// the trial is returned unchanged). Unknown id: NotFound. PersistentStudy::tell follows the
  /// same rules.
  Trial tell(std::int64_t trial_id, double value, bool skip_if_finished = false);
  /// Completes a running trial with the value of every metric of a study with metrics
  /// (StudyOptions::metrics; the classic study's one metric is "value"), by the same rules: a
  /// missing, unknown or non-finite metric is InvalidArgument and nothing changes. A plain
  /// value (above) is accepted when the study measures exactly one metric.
  Trial tell(std::int64_t trial_id, const MetricValues& values, bool skip_if_finished = false);
  /// Marks a running trial FAILED (its point is not modelled) or PRUNED and returns it;
  /// InvalidArgument for another state. Repeating it is a no-op; a trial finished otherwise is a
  /// Conflict unless `skip_if_finished`.
  Trial tell_state(std::int64_t trial_id, TrialState state, bool skip_if_finished = false);
  /// Records an intermediate value of a running trial (its objective at `step`: an epoch, a
  /// number of samples) and answers whether the pruner (StudyOptions::pruner, engine/pruner.hpp)
  /// says to stop it. The trial keeps running: a worker that stops tells
  /// tell_state(id, TrialState::kPruned), and the pruned trial keeps its last intermediate value
  /// as its value (for the model). Steps strictly increase per trial; a repeat of the last
  /// (step, value) is a no-op with the same answer. InvalidArgument: a non-finite value, a
  /// negative step, a step not after the last, a study with several objectives. Conflict: a
  /// finished trial. NotFound: an unknown id.
  PruneAnswer report(std::int64_t trial_id, std::int64_t step, double value);
  /// The pruner's answer for the trial's latest intermediate value (false before any), as
  /// report() gave it, on the trials as they are now. NotFound: an unknown id.
  bool should_prune(std::int64_t trial_id) const;
  /// Queues a point to be returned by a coming ask() before any suggestion. Validated against
  /// the space and its constraints now (InvalidArgument).
  void enqueue(const Params& params);

  /// Records a trial that ran elsewhere (restoring a study from a store): validated against
  /// the space; kComplete needs a finite value. Returns the new trial's id. Throws
  /// InvalidArgument.
  std::int64_t add_trial(const Params& params, TrialState state,
                         std::optional<double> value = std::nullopt,
                         const std::string& source = "restored");
  /// The same for a study with metrics: a complete trial needs every metric's value.
  std::int64_t add_trial(const Params& params, TrialState state, const MetricValues& values,
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
  /// For a long-lived process that keeps the posterior between asks (the warm model of
  /// PersistentStudy::keep_model_warm): `kept` is the factor an earlier ask or refit left (null
  /// when there is none). While the hyperparameters are fixed (fix_hyperparameters) and equal
  /// to the kept factor's, and the factor's rows are complete trials still modelled with the
  /// same inputs, the next model fit appends the trials completed since and re-solves for the
  /// values instead of factoring all of them; otherwise it factors as usual. Either way the study
  /// then keeps the factor of its last model fit (fantasies dropped) for take_resident_factor().
  /// Applies to single-objective studies without a warm start, outside multi-region trust
  /// regions; others ignore it.
  void keep_resident_factor(std::unique_ptr<ResidentFactor> kept);
  /// The factor kept by the last model fit (or fit_hyperparameters()), null if none.
  std::unique_ptr<ResidentFactor> take_resident_factor();
  /// Fits the GP's hyperparameters to the complete trials (MAP, warm-started from the last fit)
  /// without suggesting anything, and keeps them as the warm start. nullopt while no trial is
  /// complete, and in a study with constraints or several objectives (one GP per metric, see
  /// metric_warm_starts()).
  std::optional<GpHyperparameters> fit_hyperparameters();
  /// A study with constraints or several objectives: the last fit's hyperparameters of each
  /// metric's GP (empty before a fit), and warm starts for the next fits, by metric name.
  std::map<std::string, GpHyperparameters> metric_warm_starts() const;
  void set_metric_warm_starts(const std::map<std::string, GpHyperparameters>& hyper);

  /// Warm start (gpbo/warm_start.hpp): the model learns from these earlier studies. Each source
  /// is one level of a stack of residual GPs (the first at the bottom); the study's own GP fits
  /// the residuals of its values against the stack's mean, with a weight fitted to the data and
  /// dropped when the marginal likelihood prefers the GP alone. The initial design shrinks to
  /// three points (unless StudyOptions::n_initial is set): the last source's best observation
  /// in the new space, then a cold study's design (the centre, Sobol points); when a fit
  /// refuses the prior (weight 0), that design goes on to a cold study's size. Call before the
  /// first trial. Throws InvalidArgument when the study has trials, has constraints or several
  /// objectives, or a source matches nothing (see check_warm_start).
  void warm_start_from(std::vector<WarmStartSource> sources);
  const std::vector<WarmStartSource>& warm_start_sources() const { return warm_sources_; }
  /// The hyperparameters of the transferred prior's levels, bottom first (fitted at the first
  /// model-based ask; empty before), and the fits to condition them on instead (a stored study
  /// keeps them, so its sources are fitted once).
  const std::vector<GpHyperparameters>& prior_hyperparameters() const { return prior_hyper_; }
  void set_prior_hyperparameters(std::vector<GpHyperparameters> h);
  /// The weight of the transferred prior in the last model fit, in standardized units (about 1:
  /// the new study looks like the earlier ones; 0: no warm start, or the prior was dropped).
  double transfer_weight() const { return transfer_weight_.value_or(0.0); }
  /// The same, unset before the first model fit of a warm-started study; and its restoration
  /// (a stored study rebuilt for the next ask). While it is 0 (the earlier studies were refused)
  /// the initial design goes on to the size a cold study has.
  const std::optional<double>& last_transfer_weight() const { return transfer_weight_; }
  void restore_transfer_weight(double w) { transfer_weight_ = w; }

  /// The complete trials the last model fit left out as outliers (StudyOptions::robust), by id,
  /// ascending: values the fitted GP found implausible. They stay in trials() and in best().
  const std::vector<std::int64_t>& outliers() const { return outliers_; }

  /// Drift (StudyOptions::drift): every re-evaluation judged so far, in the order judged; the
  /// shifts are those with `shift`. A stored study keeps them in its state and restores them.
  const std::vector<DriftCheck>& drift_checks() const { return drift_checks_; }
  void restore_drift_checks(std::vector<DriftCheck> checks) { drift_checks_ = std::move(checks); }
  /// Restores when a trial finished (a study rebuilt from a store): the drift model orders the
  /// observations by completion. NotFound for an unknown id.
  void restore_finished_at(std::int64_t trial_id, double finished_at);

  /// The best complete trial (with constraints, the best feasible one), if any: best_trial().
  std::optional<Trial> best() const;
  /// The feasible complete trials no other one dominates: pareto_front().
  ParetoFront pareto() const;
  const std::vector<Trial>& trials() const { return trials_; }
  const Trial& trial(std::int64_t trial_id) const;
  const Space& space() const { return space_; }
  const StudyOptions& options() const { return options_; }
  /// Size of the initial design in use.
  int n_initial() const { return n_initial_; }
  /// Wall-clock seconds of every ask() so far, in order.
  const std::vector<double>& ask_seconds() const { return ask_seconds_; }
  /// Where the last ask()'s wall time went (AskSplit); zeros before any.
  const AskSplit& last_ask_split() const { return last_split_; }
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
  /// Whether the model is one GP per metric (constraints, or several objectives).
  bool uses_metric_model() const;
  /// Adds k model-based trials of a study with constraints or several objectives.
  void suggest_with_metrics(int k);
  /// Adds k trials from several trust regions (n_regions > 1): one Thompson draw per region
  /// and per point, the best draw across regions wins.
  void suggest_from_trust_regions(int k);
  /// The complete trials as GP training data: encoded inputs, warped internally maximized
  /// values. With a trust region's `center` and more complete trials than max_points, only the
  /// max_points nearest the centre (a local model). Returns the indices of the trials used.
  /// Trials marked in `skip` (by index) are left out, before the warping.
  std::vector<Eigen::Index> training_data(Eigen::MatrixXd* X, Eigen::VectorXd* y,
                                          const Eigen::VectorXd* center,
                                          const std::vector<bool>* skip = nullptr) const;
  /// A trust region's local data: of `rows` (trial indices, ascending), keeps the
  /// trust_region.max_points nearest `center` when there are more, in ascending order.
  void keep_nearest(std::vector<Eigen::Index>* rows, const Eigen::VectorXd& center) const;
  /// Drift (drift.cpp): whether the model has a time input.
  bool drift_on() const { return options_.drift.mode != DriftMode::kOff; }
  /// The GP's inputs: X, with drift a last column of the rows' completion times (the trial's
  /// rank among the modelled trials by finished_at then id, over their count: in [0, 1), and
  /// now = 1).
  Eigen::MatrixXd model_inputs(const Eigen::MatrixXd& X,
                               const std::vector<Eigen::Index>& rows) const;
  /// The number of columns the GP sees.
  int model_dim() const { return space_.encoded_dim() + (drift_on() ? 1 : 0); }
  /// Whether a batch of k model-based trials from here re-evaluates the incumbent: one of their
  /// ids + 1 is a multiple of drift.reevaluate_every.
  bool reevaluation_due(int k) const;
  /// Adds a re-evaluation of trial index `i` (source "reevaluation") unless a running trial
  /// holds its configuration; returns whether it did.
  bool reevaluate(std::size_t i);
  /// Judges the complete re-evaluations among `rows` not judged yet, by the leave-one-out
  /// residuals of the GP just fitted on Xg (the model's inputs) and y.
  void judge_reevaluations(const Eigen::MatrixXd& Xg, const Eigen::VectorXd& y,
                           const std::vector<Eigen::Index>& rows);
  /// Fits (or, with fixed hyperparameters, conditions) the GP on the training data (see
  /// training_data) and returns a copy of its factor. With StudyOptions::robust, the trials the
  /// fit finds implausible are left out and the GP fitted again, for a few rounds; they are added
  /// to outliers_. X, y and *rows are the data of the final fit.
  std::unique_ptr<PosteriorFactor> fit_model(const Eigen::VectorXd* center, Eigen::MatrixXd* X,
                                             Eigen::VectorXd* y, std::vector<Eigen::Index>* rows);
  /// Fits or conditions the GP on X, y (the fixed hyperparameters when there are some, from
  /// `kept` when given: see usable_resident); with a warm start, on the residuals against the
  /// transferred prior. Returns the values the GP was given.
  const Eigen::VectorXd& fit_or_condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                          std::unique_ptr<PosteriorFactor> kept = nullptr);
  /// Whether the study keeps its factor between asks (keep_resident_factor, and a model the
  /// resident factor applies to).
  bool keeps_resident() const;
  /// The kept factor, when it can condition the training data `rows` (trial indices), X and y:
  /// same hyperparameters, and every kept row among `rows` with the same inputs. Its rows then
  /// come first in rows, X and y (the others follow in trial order). Null otherwise.
  std::unique_ptr<PosteriorFactor> usable_resident(std::vector<Eigen::Index>* rows,
                                                   Eigen::MatrixXd* X, Eigen::VectorXd* y);
  /// Keeps `factor` (the GP's, under last_hyper_) as the resident factor of the trials `rows`,
  /// after dropping the rows appended beyond them (fantasies).
  void keep_resident(std::unique_ptr<PosteriorFactor> factor,
                     const std::vector<Eigen::Index>& rows);
  /// The model's factor at the end of fit_model: the GP's own, released to the caller (never
  /// copied), seen at the present time under drift and with the transferred prior's mean when
  /// there is one.
  std::unique_ptr<PosteriorFactor> take_model_factor();
  /// The transferred prior, built at its first use (warm_start.cpp).
  const StackedPrior& transfer_prior();
  /// The first point of a warm-started study (warm_start.cpp).
  Eigen::VectorXd transferred_start() const;
  /// Whether StudyOptions::robust checks a fit of n observations for outliers.
  bool checks_outliers(Eigen::Index n) const;
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
  /// The order of a trust region's trials, complete ones only: the objective, or with outcome
  /// constraints SCBO's (a feasible trial beats an infeasible one; infeasible ones by their
  /// total violation).
  bool region_better(const Trial& a, const Trial& b) const;
  /// Sets a region's reference (best_value or best_violation) to the trial's.
  void set_region_best(TrustRegionState* s, const Trial& t) const;
  /// The trust regions' local model with outcome constraints: one GP per metric on the trials
  /// nearest the centre, k Thompson picks among candidates in the box (SCBO).
  void suggest_from_constrained_trust_region(int k);
  /// Fits the metric model to the complete trials (with a centre: the trust region's
  /// max_points nearest it) and returns their encoded inputs, in trial order.
  Eigen::MatrixXd fit_metric_model(const Eigen::VectorXd* center);
  /// The encoded points of the running trials (this batch's earlier points included).
  Eigen::MatrixXd running_inputs() const;
  Trial& find(std::int64_t trial_id);

  Space space_;
  StudyOptions options_;
  int n_initial_ = 0;
  std::mt19937_64 rng_;
  std::vector<Trial> trials_;
  std::vector<Eigen::VectorXd> encoded_;  // encoded params of trials_, same order
  std::deque<Params> queue_;
  std::vector<double> ask_seconds_;
  AskSplit last_split_;
  std::int64_t design_index_ = 0;
  std::unique_ptr<SobolSampler> design_;
  std::unique_ptr<GaussianProcess> gp_;
  std::optional<GpHyperparameters> last_hyper_;
  bool hyper_fixed_ = false;
  bool keep_resident_ = false;
  std::unique_ptr<ResidentFactor> resident_;  // in: from the warm model; out: the last fit's
  BatchMethod last_batch_method_ = BatchMethod::kAuto;
  std::vector<TrustRegionState> regions_;
  std::unique_ptr<MetricModel> metric_model_;
  std::map<std::string, GpHyperparameters> metric_warm_;  // until the metric model exists
  std::vector<Eigen::MatrixXd> tr_boxes_;                 // one per region, 2 x D: lower, upper
  std::vector<std::int64_t> outliers_;                    // trial ids, of the last model fit
  std::vector<WarmStartSource> warm_sources_;
  std::shared_ptr<StackedPrior> prior_;  // built from warm_sources_ at the first model fit
  std::vector<GpHyperparameters> prior_hyper_;
  // The last fit: the values its GP was given, the transferred prior's weight and its scale in
  // the GP's standardized units, and the standardization of the study's values (the GP's own
  // without a warm start).
  Eigen::VectorXd fit_y_;
  std::optional<double> transfer_weight_;
  double prior_scale_ = 0.0, model_y_mean_ = 0.0, model_y_scale_ = 1.0;
  std::vector<DriftCheck> drift_checks_;
};

/// Warps internally maximized values y (higher is better); monotone non-decreasing.
/// kLog: with t = (max - y)/(max - min), -log1p((s - 1) t) / log(s).
/// kHalfRank: values below the median m become m + sigma * Phi^{-1}(rank quantile), where sigma
/// is the root-mean-square deviation of the upper half from m (after Vizier's half-rank
/// warper, Song et al. 2024, "The Vizier Gaussian Process Bandit Algorithm"). With
/// `robust_scale` (StudyOptions::robust not off), sigma is instead 1.4826 times the median
/// deviation of the upper half from m (the scale of a half-normal from its median), so that one
/// huge value cannot stretch the whole lower half; on normal data both estimate the same sigma.
Eigen::VectorXd warp_outputs(const Eigen::VectorXd& y, OutputWarping warping, double strength,
                             bool robust_scale = false);

/// The power of two e that the models divide observed values by, so that any finite double
/// can be told: 0 (values kept as they are) while max |y| lies in [2^-400, 2^400], else
/// ilogb(max |y|), which brings the largest to [1, 2) exactly (a power of two loses no digit),
/// where squares, sums and deviations cannot overflow (values near 1e300 or 1.7e308 once
/// broke every later fit).
int value_exponent(const Eigen::VectorXd& y);
/// y / 2^value_exponent(y).
Eigen::VectorXd to_safe_magnitude(const Eigen::VectorXd& y);

/// Default initial-design size for an encoded dimension d.
int default_initial_design_size(int d);

/// The method BatchMethod::kAuto picks for a batch of q points (others are returned as given).
BatchMethod resolve_batch_method(BatchMethod requested, int q, bool noisy);

}  // namespace gpbo

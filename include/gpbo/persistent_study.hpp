#pragma once
/// A study kept in a Storage and driven by many processes: every ask, tell and heartbeat is one
/// transaction that reloads the study, so each call sees every other worker's trials.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpbo/options.hpp"
#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "gpbo/trial.hpp"
#include "gpbo/verify.hpp"

namespace gpbo {

class PersistentStudy {
 public:
  /// Creates a study in `storage`; Conflict if the name exists, InvalidArgument for a bad name.
  static PersistentStudy create(std::shared_ptr<Storage> storage, const std::string& name,
                                const Space& space, const StudyOptions& options = {},
                                const PersistenceOptions& persistence = {});
  /// Creates a study warm-started from earlier ones (Study::warm_start_from): the sources are
  /// copied into the study, so later trials of a source, or its deletion, change nothing.
  /// InvalidArgument (nothing written) when a source matches nothing in `space` (check_warm_start)
  /// or names the new study itself.
  static PersistentStudy create(std::shared_ptr<Storage> storage, const std::string& name,
                                const Space& space, const StudyOptions& options,
                                const PersistenceOptions& persistence,
                                const std::vector<WarmStartSource>& warm_start);
  /// A study of `storage` as a warm-start source: its complete trials with a value (the
  /// objective's, in a study with metrics) and its direction. InvalidArgument when there is no
  /// such study (a warm start names its sources: a missing one is bad input).
  static WarmStartSource warm_start_source(Storage& storage, const std::string& name);
  /// A handle on an existing study; NotFound if absent.
  PersistentStudy(std::shared_ptr<Storage> storage, std::string name);

  const std::string& name() const { return name_; }

  /// Keeps the GP hyperparameters and the Cholesky factor made with them in memory between
  /// asks (for one long-lived process that holds this object, such as gpbo serve): an ask
  /// conditions the GP on them instead of refitting, appending the trials completed since to
  /// the resident factor (O(n^2) each) and re-solving for the values (two triangular solves)
  /// rather than factoring all n trials (O(n^3)). A refit runs on a background thread when the
  /// data has grown (see WarmModelOptions), without blocking asks; it ends with one
  /// factorization under the new hyperparameters, which replaces the resident factor. The
  /// first model-based ask fits in the foreground. Studies with constraints or several
  /// objectives, warm-started studies and several trust regions keep the hyperparameters only.
  /// Copies of this object share the warm model.
  void keep_model_warm(const WarmModelOptions& options = {});
  /// Warm-model counters: hyperparameter fits done (foreground and background), asks that
  /// used kept hyperparameters, and those of them that extended the resident factor. Zeros
  /// without keep_model_warm().
  struct WarmStats {
    std::int64_t fits = 0;
    std::int64_t warm_asks = 0;
    std::int64_t resident_asks = 0;
  };
  WarmStats warm_stats() const;
  /// Waits for a running background refit (tests, clean shutdown).
  void wait_for_refit() const;

  /// Suggests q points as RUNNING trials leased to `worker_id`. When the worker already holds
  /// running trials, those are returned (lease renewed) instead of new ones. Expired leases are
  /// settled first. Throws Conflict when the space has no unsuggested point left.
  std::vector<Trial> ask(int q = 1, const std::string& worker_id = "");
  /// The same with parameters pinned for this ask (Study::ask(q, fixed)); InvalidArgument for
  /// bad fixed values, before anything is written (a worker's resumed trials are returned as
  /// they are).
  std::vector<Trial> ask(int q, const std::string& worker_id, const Params& fixed);
  /// One worker's share of a coalesced ask.
  struct AskRequest {
    int q = 1;
    std::string worker_id;
    /// Values pinned for this ask (ask(q, worker_id, fixed)); a batch's requests share them.
    Params fixed;
  };
  /// Several workers' asks planned as one batch (gpbo serve coalesces the asks waiting on a
  /// study): one fit and one batch of sum(q) points, each point unlike the others and the
  /// running trials, handed out in request order, the first q to the first request and so on.
  /// A request whose worker already holds running trials gets those back, as with ask(). The
  /// total must be 1..kMaxAskBatch and the requests' fixed values equal (InvalidArgument). When the
  /// space has fewer free points than asked for, the last requests get fewer or none (an empty
  /// vector); Conflict when none is left at all.
  std::vector<std::vector<Trial>> ask_batch(const std::vector<AskRequest>& requests);
  /// Completes a trial with a finite value, by the rules of Study::tell: a non-finite value is
  /// InvalidArgument (nothing written; report it with tell_state(id, kFailed)); the same value
  /// again is a no-op; a different value, or a trial that already failed or was pruned, is a
  /// Conflict unless `skip_if_finished` (then the stored trial is returned unchanged).
  Trial tell(std::int64_t trial_id, double value, bool skip_if_finished = false);
  /// Completes a trial with every metric's value, by the rules of Study::tell(id, values).
  Trial tell(std::int64_t trial_id, const MetricValues& values, bool skip_if_finished = false);
  /// Marks a trial FAILED or PRUNED (InvalidArgument for another state), by the rules of
  /// Study::tell_state; Conflict if it is finished otherwise, unless `skip_if_finished`.
  Trial tell_state(std::int64_t trial_id, TrialState state, bool skip_if_finished = false);
  /// Records an intermediate value of a running trial and answers whether to stop it, by the
  /// rules of Study::report, in one transaction: the value goes into the trial's
  /// `intermediate` and the log ("report", {"step", "value", "prune"}), and renews the lease as
  /// a heartbeat does. A repeat of the last (step, value) writes nothing.
  PruneAnswer report(std::int64_t trial_id, std::int64_t step, double value);
  /// The pruner's answer for the trial's latest intermediate value (Study::should_prune).
  bool should_prune(std::int64_t trial_id);
  /// How much compute the study used so far (study_cost in gpbo/study.hpp).
  StudyCost cost();
  /// Extends a running trial's lease; Conflict if it is not running.
  Trial heartbeat(std::int64_t trial_id);
  /// Queues a point for the next ask; validated now (InvalidArgument), nothing written if bad.
  void enqueue(const Params& params);
  /// Adds finished trials that ran elsewhere (an earlier history), in one transaction: each
  /// needs the space's parameters and a state of COMPLETE (with a finite value), FAILED or
  /// PRUNED; its source becomes "imported", its times are kept when set (else now). Returns the
  /// stored trials. A complete trial of a study with metrics needs `values` (every metric), or
  /// a `value` when the study measures one metric. InvalidArgument for any bad trial, and then
  /// nothing is written.
  std::vector<Trial> add_trials(const std::vector<Trial>& trials);

  /// The best (feasible) complete trial, if any; InvalidArgument with several objectives
  /// (best_trial in gpbo/study.hpp).
  std::optional<Trial> best();
  /// The Pareto front of the feasible complete trials (pareto_front in gpbo/study.hpp).
  ParetoFront pareto();
  std::vector<Trial> trials();
  /// The ids of the complete trials the last model-based ask left out as outliers
  /// (StudyOptions::robust, Study::outliers()), ascending; kept in the study's state.
  std::vector<std::int64_t> outliers();
  /// Drift (StudyOptions::drift): the re-evaluations the model-based asks have judged so far,
  /// shifts among them (Study::drift_checks()); kept in the study's state, and each shift
  /// logged as a "shift" entry by the ask that found it.
  std::vector<DriftCheck> drift_checks();
  /// Trial `trial_id` (one row read); NotFound if there is none.
  Trial trial(std::int64_t trial_id);
  StudyInfo info();
  std::vector<LogEntry> log();
  /// Checks the log's hash chain and the trials against the log (gpbo/verify.hpp).
  VerifyReport verify();

 private:
  /// Starts a background refit when the warm model finds one due.
  void schedule_refit(std::size_t n_complete);

  std::shared_ptr<Storage> storage_;
  std::string name_;
  std::shared_ptr<class WarmModel> warm_;
};

}  // namespace gpbo

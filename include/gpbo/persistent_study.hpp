#pragma once
/// A study kept in a Storage and driven by many processes: every ask, tell and heartbeat is one
/// transaction that reloads the study, so each call sees every other worker's trials.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"

namespace gpbo {

/// How a stored study treats its running trials.
struct PersistenceOptions {
  /// A RUNNING trial without a heartbeat for this long is marked FAILED at the next ask.
  double lease_seconds = 3600.0;
  /// Whether an expired trial's point is queued again (source "requeued").
  bool requeue_expired = false;
};

/// How a long-lived process (gpbo serve) keeps a study's model warm between asks.
struct WarmModelOptions {
  /// A refit starts in the background once the complete trials have grown since the last fit
  /// by this share of the last fit's size (at least one trial) ...
  double refit_growth = 0.1;
  /// ... or by this many trials, whichever comes first.
  int refit_every = 25;
};
/// Throws InvalidArgument unless refit_growth >= 0 and refit_every >= 1.
void check_warm_model_options(const WarmModelOptions& options);

/// The options object stored with a study, e.g. {"seed": 0, "n_initial": 0, "acquisition":
/// "logei", "kernel": "matern52", "batch_method": "auto", "output_warping": "halfrank",
/// "noise": "auto", "lease_seconds": 3600, "requeue_expired": false}.
std::string study_options_to_json(const StudyOptions& options, const PersistenceOptions& p);
/// Parses that object; missing keys keep their defaults, unknown keys or bad values throw
/// InvalidArgument.
void study_options_from_json(const std::string& json, StudyOptions* options, PersistenceOptions* p);

/// Seconds since the Unix epoch, the clock of leases and timestamps.
double now_seconds();

class PersistentStudy {
 public:
  /// Creates a study in `storage`; Conflict if the name exists, InvalidArgument for a bad name.
  static PersistentStudy create(std::shared_ptr<Storage> storage, const std::string& name,
                                const Space& space, const StudyOptions& options = {},
                                const PersistenceOptions& persistence = {});
  /// A handle on an existing study; NotFound if absent.
  PersistentStudy(std::shared_ptr<Storage> storage, std::string name);

  const std::string& name() const { return name_; }

  /// Keeps the GP hyperparameters in memory between asks (for one long-lived process that
  /// holds this object, such as gpbo serve): an ask conditions the GP on them (one Cholesky
  /// factorization) instead of refitting, and a refit runs on a background thread when the
  /// data has grown (see WarmModelOptions), without blocking asks. The first model-based ask
  /// fits in the foreground. Copies of this object share the warm model.
  void keep_model_warm(const WarmModelOptions& options = {});
  /// Warm-model counters: hyperparameter fits done (foreground and background), and asks that
  /// used kept hyperparameters. Zeros without keep_model_warm().
  struct WarmStats {
    std::int64_t fits = 0;
    std::int64_t warm_asks = 0;
  };
  WarmStats warm_stats() const;
  /// Waits for a running background refit (tests, clean shutdown).
  void wait_for_refit() const;

  /// Suggests q points as RUNNING trials leased to `worker_id`. When the worker already holds
  /// running trials, those are returned (lease renewed) instead of new ones. Expired leases are
  /// settled first. Throws Conflict when the space has no unsuggested point left.
  std::vector<StoredTrial> ask(int q = 1, const std::string& worker_id = "");
  /// Completes a trial with a finite value (InvalidArgument otherwise). Telling the same value
  /// again is a no-op; a different value, or a trial that already failed or was pruned, is a
  /// Conflict unless `skip_if_finished` (then the stored trial is returned unchanged).
  StoredTrial tell(std::int64_t trial_id, double value, bool skip_if_finished = false);
  /// Marks a trial FAILED or PRUNED (InvalidArgument for another state); Conflict if it is
  /// finished otherwise, unless `skip_if_finished`.
  StoredTrial tell_state(std::int64_t trial_id, TrialState state, bool skip_if_finished = false);
  /// Extends a running trial's lease; Conflict if it is not running.
  StoredTrial heartbeat(std::int64_t trial_id);
  /// Queues a point for the next ask; validated now (InvalidArgument), nothing written if bad.
  void enqueue(const Params& params);

  /// The best complete trial, if any.
  std::optional<StoredTrial> best();
  std::vector<StoredTrial> trials();
  StudyInfo info();
  std::vector<LogEntry> log();

 private:
  /// Starts a background refit when the warm model finds one due.
  void schedule_refit(std::size_t n_complete);

  std::shared_ptr<Storage> storage_;
  std::string name_;
  std::shared_ptr<class WarmModel> warm_;
};

}  // namespace gpbo

#pragma once
// The study service: the operations of the HTTP API as one C++ interface, the layer both the
// CLI and `gpbo serve` stand on. Two implementations: LocalStudyService on a Storage (what
// `gpbo serve` runs, and what the CLI uses with --storage) and RemoteStudyService
// (remote_study_service.hpp: the HTTP client the CLI uses with --server). The CLI's commands are
// written once, against this interface.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/options.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/trial.hpp"
#include "gpbo/verify.hpp"
#include "service/warm_start_request.hpp"

namespace gpbo::service {

/// Every method throws the typed errors of include/gpbo/error.hpp, as the engine does.
class StudyService {
 public:
  virtual ~StudyService() = default;
  /// Creates a study; Conflict if the name exists.
  virtual StudyInfo create_study(const std::string& name, const Space& space,
                                 const StudyOptions& options,
                                 const PersistenceOptions& persistence) = 0;
  /// Creates a study warm-started from earlier ones (PersistentStudy::create with the sources
  /// of `warm`, resolved in the store that holds the new study); InvalidArgument for a source
  /// that is missing, names the new study or matches nothing in `space`. The default (a
  /// service that stores nothing itself, e.g. a test double) refuses every warm start.
  virtual StudyInfo create_warm_started_study(const std::string& name, const Space& space,
                                              const StudyOptions& options,
                                              const PersistenceOptions& persistence,
                                              const WarmStartRequest& warm) {
    if (warm.empty()) return create_study(name, space, options, persistence);
    throw InvalidArgument("this study service does not support warm starts");
  }
  virtual std::vector<StudyInfo> list_studies() = 0;
  /// NotFound if absent.
  virtual StudyInfo get_study(const std::string& name) = 0;
  virtual void delete_study(const std::string& name) = 0;
  /// `fixed`: parameters pinned for this ask, a JSON object of name: value (empty: none);
  /// InvalidArgument when it is not an object or a value is bad (PersistentStudy::ask).
  virtual std::vector<Trial> ask(const std::string& study, int q, const std::string& worker_id,
                                 const nlohmann::json& fixed = nlohmann::json::object()) = 0;
  virtual Trial tell(const std::string& study, std::int64_t trial, double value,
                     bool skip_if_finished) = 0;
  /// A tell of every metric of a study with metrics (PersistentStudy::tell(id, values)).
  virtual Trial tell_values(const std::string& study, std::int64_t trial,
                            const MetricValues& values, bool skip_if_finished) = 0;
  virtual Trial tell_state(const std::string& study, std::int64_t trial, TrialState state,
                           bool skip_if_finished) = 0;
  virtual Trial heartbeat(const std::string& study, std::int64_t trial) = 0;
  /// An intermediate value of a running trial, and whether the study's pruner says to stop it
  /// (PersistentStudy::report).
  virtual PruneAnswer report_value(const std::string& study, std::int64_t trial, std::int64_t step,
                                   double value) = 0;
  /// The pruner's answer for the trial's latest intermediate value (PersistentStudy::should_prune).
  virtual bool should_prune(const std::string& study, std::int64_t trial) = 0;
  /// How much compute the study used (PersistentStudy::cost).
  virtual StudyCost cost(const std::string& study) = 0;
  /// `params` is a point as a JSON object (space/params_json.hpp); validated against the space.
  virtual void enqueue(const std::string& study, const nlohmann::json& params) = 0;
  /// Adds finished trials (PersistentStudy::add_trials); returns them as stored.
  virtual std::vector<Trial> add_trials(const std::string& study,
                                        const std::vector<Trial>& trials) = 0;
  virtual std::optional<Trial> best(const std::string& study) = 0;
  /// The Pareto front of the feasible complete trials (PersistentStudy::pareto).
  virtual ParetoFront pareto(const std::string& study) = 0;
  virtual std::vector<Trial> trials(const std::string& study) = 0;
  /// The ids of the trials the last model-based ask left out as outliers
  /// (PersistentStudy::outliers).
  virtual std::vector<std::int64_t> outliers(const std::string& study) = 0;
  /// Drift: the re-evaluations judged so far and the shifts among them
  /// (PersistentStudy::drift_checks), as drift_to_json's object.
  virtual nlohmann::json drift(const std::string& study) = 0;
  /// Trial `trial` of the study; NotFound if there is none.
  virtual Trial trial(const std::string& study, std::int64_t trial) = 0;
  /// The study's append-only log, oldest first.
  virtual std::vector<LogEntry> log(const std::string& study) = 0;
  /// The study's report: one self-contained HTML page (gpbo/report.hpp).
  virtual std::string report(const std::string& study) = 0;
  /// Checks the study's log chain and its trials against the log (gpbo/verify.hpp).
  virtual VerifyReport verify(const std::string& study) = 0;
};

/// The service on a Storage. Keeps one PersistentStudy per study (created on first use, dropped
/// on delete) and serializes the asks of each study with a per-study mutex, so one process is
/// the only planner of its studies; asks on different studies run in parallel. With `warm`,
/// each study keeps its model warm (PersistentStudy::keep_model_warm): what gpbo serve does.
/// Thread-safe.
class LocalStudyService final : public StudyService {
 public:
  explicit LocalStudyService(std::shared_ptr<Storage> storage,
                             std::optional<WarmModelOptions> warm = std::nullopt);

  StudyInfo create_study(const std::string& name, const Space& space, const StudyOptions& options,
                         const PersistenceOptions& persistence) override;
  StudyInfo create_warm_started_study(const std::string& name, const Space& space,
                                      const StudyOptions& options,
                                      const PersistenceOptions& persistence,
                                      const WarmStartRequest& warm) override;
  std::vector<StudyInfo> list_studies() override;
  StudyInfo get_study(const std::string& name) override;
  void delete_study(const std::string& name) override;
  std::vector<Trial> ask(const std::string& study, int q, const std::string& worker_id,
                         const nlohmann::json& fixed = nlohmann::json::object()) override;
  Trial tell(const std::string& study, std::int64_t trial, double value,
             bool skip_if_finished) override;
  Trial tell_values(const std::string& study, std::int64_t trial, const MetricValues& values,
                    bool skip_if_finished) override;
  Trial tell_state(const std::string& study, std::int64_t trial, TrialState state,
                   bool skip_if_finished) override;
  Trial heartbeat(const std::string& study, std::int64_t trial) override;
  PruneAnswer report_value(const std::string& study, std::int64_t trial, std::int64_t step,
                           double value) override;
  bool should_prune(const std::string& study, std::int64_t trial) override;
  StudyCost cost(const std::string& study) override;
  void enqueue(const std::string& study, const nlohmann::json& params) override;
  std::vector<Trial> add_trials(const std::string& study,
                                const std::vector<Trial>& trials) override;
  std::optional<Trial> best(const std::string& study) override;
  ParetoFront pareto(const std::string& study) override;
  std::vector<std::int64_t> outliers(const std::string& study) override;
  nlohmann::json drift(const std::string& study) override;
  std::vector<Trial> trials(const std::string& study) override;
  Trial trial(const std::string& study, std::int64_t trial) override;
  std::vector<LogEntry> log(const std::string& study) override;
  std::string report(const std::string& study) override;
  VerifyReport verify(const std::string& study) override;

  /// The warm-model counters of a study (zeros without `warm`).
  PersistentStudy::WarmStats warm_stats(const std::string& study);

 private:
  /// An ask waiting on its study: answered by whichever waiting ask plans next.
  struct Waiter {
    PersistentStudy::AskRequest request;
    std::vector<Trial> trials;
    std::exception_ptr error;
    bool done = false;
  };
  struct Entry {
    explicit Entry(PersistentStudy s) : study(std::move(s)) {}
    PersistentStudy study;
    /// Asks on one study are coalesced: while one plans, the others queue in `waiting`; the
    /// next to plan takes every queued ask (up to kMaxAskBatch points) into one batch
    /// (PersistentStudy::ask_batch), so throughput grows with the number of workers instead
    /// of their latency.
    std::mutex ask_mutex;
    std::condition_variable ask_done;
    std::deque<Waiter*> waiting;
    bool planning = false;
  };
  /// The study's entry, opened on first use (NotFound if the study does not exist).
  std::shared_ptr<Entry> entry(const std::string& name);

  std::shared_ptr<Storage> storage_;
  std::optional<WarmModelOptions> warm_;
  std::mutex map_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> studies_;
};

}  // namespace gpbo::service

#pragma once
// The operations of the study HTTP API as one C++ interface, with two implementations: a
// LocalStudyApi on a Storage (what `gpbo serve` runs, and what the CLI uses with --storage) and
// server::Client (the HTTP client the CLI uses with --server). The CLI's commands are written
// once, against this interface.

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"

namespace gpbo::server {

/// Every method throws the typed errors of include/gpbo/error.hpp, as the engine does.
class StudyApi {
 public:
  virtual ~StudyApi() = default;
  /// Creates a study; Conflict if the name exists.
  virtual StudyInfo create_study(const std::string& name, const Space& space,
                                 const StudyOptions& options,
                                 const PersistenceOptions& persistence) = 0;
  virtual std::vector<StudyInfo> list_studies() = 0;
  /// NotFound if absent.
  virtual StudyInfo get_study(const std::string& name) = 0;
  virtual void delete_study(const std::string& name) = 0;
  virtual std::vector<StoredTrial> ask(const std::string& study, int q,
                                       const std::string& worker_id) = 0;
  virtual StoredTrial tell(const std::string& study, std::int64_t trial, double value,
                           bool skip_if_finished) = 0;
  virtual StoredTrial tell_state(const std::string& study, std::int64_t trial, TrialState state,
                                 bool skip_if_finished) = 0;
  virtual StoredTrial heartbeat(const std::string& study, std::int64_t trial) = 0;
  /// `params` is a point as a JSON object (space/params_json.hpp); validated against the space.
  virtual void enqueue(const std::string& study, const nlohmann::json& params) = 0;
  virtual std::optional<StoredTrial> best(const std::string& study) = 0;
  virtual std::vector<StoredTrial> trials(const std::string& study) = 0;
};

/// The API on a Storage. Keeps one PersistentStudy per study (created on first use, dropped on
/// delete) and serializes the asks of each study with a per-study mutex, so one process is the
/// only planner of its studies; asks on different studies run in parallel. With `warm`, each
/// study keeps its model warm (PersistentStudy::keep_model_warm): what gpbo serve does.
/// Thread-safe.
class LocalStudyApi final : public StudyApi {
 public:
  explicit LocalStudyApi(std::shared_ptr<Storage> storage,
                         std::optional<WarmModelOptions> warm = std::nullopt);

  StudyInfo create_study(const std::string& name, const Space& space, const StudyOptions& options,
                         const PersistenceOptions& persistence) override;
  std::vector<StudyInfo> list_studies() override;
  StudyInfo get_study(const std::string& name) override;
  void delete_study(const std::string& name) override;
  std::vector<StoredTrial> ask(const std::string& study, int q,
                               const std::string& worker_id) override;
  StoredTrial tell(const std::string& study, std::int64_t trial, double value,
                   bool skip_if_finished) override;
  StoredTrial tell_state(const std::string& study, std::int64_t trial, TrialState state,
                         bool skip_if_finished) override;
  StoredTrial heartbeat(const std::string& study, std::int64_t trial) override;
  void enqueue(const std::string& study, const nlohmann::json& params) override;
  std::optional<StoredTrial> best(const std::string& study) override;
  std::vector<StoredTrial> trials(const std::string& study) override;

  /// The study's provenance log (for tests and tools; not part of the HTTP API).
  std::vector<LogEntry> log(const std::string& study);
  /// The warm-model counters of a study (zeros without `warm`).
  PersistentStudy::WarmStats warm_stats(const std::string& study);

 private:
  struct Entry {
    explicit Entry(PersistentStudy s) : study(std::move(s)) {}
    PersistentStudy study;
    std::mutex ask_mutex;
  };
  /// The study's entry, opened on first use (NotFound if the study does not exist).
  std::shared_ptr<Entry> entry(const std::string& name);

  std::shared_ptr<Storage> storage_;
  std::optional<WarmModelOptions> warm_;
  std::mutex map_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> studies_;
};

/// The JSON form of a study that the server returns and the CLI prints:
/// {"name", "direction", "created_at", "space", "options"}.
nlohmann::json study_to_json(const StudyInfo& info);
/// Reads that form back (the client side); InvalidArgument if malformed.
StudyInfo study_from_json(const nlohmann::json& j);
/// Reads a trial printed by trial_to_json (engine/trial_json.hpp) without its space: integers
/// become int params, other numbers float params, strings categoricals (trial_to_json writes a
/// float param with a fraction or exponent, so this is exact). InvalidArgument if malformed.
StoredTrial trial_from_json(const nlohmann::json& j);

}  // namespace gpbo::server

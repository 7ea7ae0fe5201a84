#include "gpbo/error.hpp"
#include "gpbo/report.hpp"
#include "service/study_service.hpp"
#include "space/params_json.hpp"

namespace gpbo::service {

using nlohmann::json;

LocalStudyService::LocalStudyService(std::shared_ptr<Storage> storage,
                                     std::optional<WarmModelOptions> warm)
    : storage_(std::move(storage)), warm_(warm) {
  if (warm_) check_warm_model_options(*warm_);
}

std::shared_ptr<LocalStudyService::Entry> LocalStudyService::entry(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(map_mutex_);
    const auto it = studies_.find(name);
    if (it != studies_.end()) return it->second;
  }
  // Opening reads the store (NotFound if absent); do it outside the map lock so that a slow
  // store does not hold up requests on studies already open.
  auto fresh = std::make_shared<Entry>(PersistentStudy(storage_, name));
  if (warm_) fresh->study.keep_model_warm(*warm_);
  std::lock_guard<std::mutex> lock(map_mutex_);
  return studies_.emplace(name, std::move(fresh)).first->second;  // first opener wins
}

StudyInfo LocalStudyService::create_study(const std::string& name, const Space& space,
                                          const StudyOptions& options,
                                          const PersistenceOptions& persistence) {
  return PersistentStudy::create(storage_, name, space, options, persistence).info();
}

StudyInfo LocalStudyService::create_warm_started_study(const std::string& name, const Space& space,
                                                       const StudyOptions& options,
                                                       const PersistenceOptions& persistence,
                                                       const WarmStartRequest& warm) {
  return PersistentStudy::create(storage_, name, space, options, persistence,
                                 resolve_warm_start(*storage_, name, warm))
      .info();
}

std::vector<StudyInfo> LocalStudyService::list_studies() { return storage_->list_studies(); }

StudyInfo LocalStudyService::get_study(const std::string& name) {
  return entry(name)->study.info();
}

void LocalStudyService::delete_study(const std::string& name) {
  storage_->delete_study(name);
  std::lock_guard<std::mutex> lock(map_mutex_);
  studies_.erase(name);
}

std::vector<Trial> LocalStudyService::ask(const std::string& study, int q,
                                          const std::string& worker_id) {
  const std::shared_ptr<Entry> e = entry(study);
  std::lock_guard<std::mutex> lock(e->ask_mutex);
  return e->study.ask(q, worker_id);
}

Trial LocalStudyService::tell(const std::string& study, std::int64_t trial, double value,
                              bool skip_if_finished) {
  return entry(study)->study.tell(trial, value, skip_if_finished);
}

Trial LocalStudyService::tell_values(const std::string& study, std::int64_t trial,
                                     const MetricValues& values, bool skip_if_finished) {
  return entry(study)->study.tell(trial, values, skip_if_finished);
}

Trial LocalStudyService::tell_state(const std::string& study, std::int64_t trial, TrialState state,
                                    bool skip_if_finished) {
  return entry(study)->study.tell_state(trial, state, skip_if_finished);
}

Trial LocalStudyService::heartbeat(const std::string& study, std::int64_t trial) {
  return entry(study)->study.heartbeat(trial);
}

PruneAnswer LocalStudyService::report_value(const std::string& study, std::int64_t trial,
                                            std::int64_t step, double value) {
  return entry(study)->study.report(trial, step, value);
}

bool LocalStudyService::should_prune(const std::string& study, std::int64_t trial) {
  return entry(study)->study.should_prune(trial);
}

StudyCost LocalStudyService::cost(const std::string& study) { return entry(study)->study.cost(); }

void LocalStudyService::enqueue(const std::string& study, const json& params) {
  const std::shared_ptr<Entry> e = entry(study);
  e->study.enqueue(params_from_json(params, Space::from_json(e->study.info().space_json)));
}

std::vector<Trial> LocalStudyService::add_trials(const std::string& study,
                                                 const std::vector<Trial>& trials) {
  return entry(study)->study.add_trials(trials);
}

std::optional<Trial> LocalStudyService::best(const std::string& study) {
  return entry(study)->study.best();
}

std::vector<std::int64_t> LocalStudyService::outliers(const std::string& study) {
  return entry(study)->study.outliers();
}

ParetoFront LocalStudyService::pareto(const std::string& study) {
  return entry(study)->study.pareto();
}

std::vector<Trial> LocalStudyService::trials(const std::string& study) {
  return entry(study)->study.trials();
}

Trial LocalStudyService::trial(const std::string& study, std::int64_t trial) {
  return entry(study)->study.trial(trial);
}

std::vector<LogEntry> LocalStudyService::log(const std::string& study) {
  return entry(study)->study.log();
}

std::string LocalStudyService::report(const std::string& study) {
  return render_report(entry(study)->study);
}

VerifyReport LocalStudyService::verify(const std::string& study) {
  return verify_study(*storage_, study);
}

PersistentStudy::WarmStats LocalStudyService::warm_stats(const std::string& study) {
  return entry(study)->study.warm_stats();
}

}  // namespace gpbo::service

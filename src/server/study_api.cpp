#include "server/study_api.hpp"

#include <cmath>

#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo::server {

using nlohmann::json;

LocalStudyApi::LocalStudyApi(std::shared_ptr<Storage> storage, std::optional<WarmModelOptions> warm)
    : storage_(std::move(storage)), warm_(warm) {
  if (warm_) check_warm_model_options(*warm_);
}

std::shared_ptr<LocalStudyApi::Entry> LocalStudyApi::entry(const std::string& name) {
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

StudyInfo LocalStudyApi::create_study(const std::string& name, const Space& space,
                                      const StudyOptions& options,
                                      const PersistenceOptions& persistence) {
  PersistentStudy study = PersistentStudy::create(storage_, name, space, options, persistence);
  return study.info();
}

std::vector<StudyInfo> LocalStudyApi::list_studies() { return storage_->list_studies(); }

PersistentStudy::WarmStats LocalStudyApi::warm_stats(const std::string& study) {
  return entry(study)->study.warm_stats();
}

StudyInfo LocalStudyApi::get_study(const std::string& name) { return entry(name)->study.info(); }

void LocalStudyApi::delete_study(const std::string& name) {
  storage_->delete_study(name);
  std::lock_guard<std::mutex> lock(map_mutex_);
  studies_.erase(name);
}

std::vector<StoredTrial> LocalStudyApi::ask(const std::string& study, int q,
                                            const std::string& worker_id) {
  const std::shared_ptr<Entry> e = entry(study);
  std::lock_guard<std::mutex> lock(e->ask_mutex);
  return e->study.ask(q, worker_id);
}

StoredTrial LocalStudyApi::tell(const std::string& study, std::int64_t trial, double value,
                                bool skip_if_finished) {
  return entry(study)->study.tell(trial, value, skip_if_finished);
}

StoredTrial LocalStudyApi::tell_state(const std::string& study, std::int64_t trial,
                                      TrialState state, bool skip_if_finished) {
  return entry(study)->study.tell_state(trial, state, skip_if_finished);
}

StoredTrial LocalStudyApi::heartbeat(const std::string& study, std::int64_t trial) {
  return entry(study)->study.heartbeat(trial);
}

void LocalStudyApi::enqueue(const std::string& study, const json& params) {
  const std::shared_ptr<Entry> e = entry(study);
  e->study.enqueue(params_from_json(params, Space::from_json(e->study.info().space_json)));
}

std::optional<StoredTrial> LocalStudyApi::best(const std::string& study) {
  return entry(study)->study.best();
}

std::vector<StoredTrial> LocalStudyApi::trials(const std::string& study) {
  return entry(study)->study.trials();
}

std::vector<LogEntry> LocalStudyApi::log(const std::string& study) {
  return entry(study)->study.log();
}

json study_to_json(const StudyInfo& s) {
  return {{"name", s.name},
          {"direction", to_string(s.direction)},
          {"created_at", s.created_at},
          {"space", json::parse(s.space_json)},
          {"options", json::parse(s.options_json)}};
}

StudyInfo study_from_json(const json& j) {
  try {
    StudyInfo s;
    s.name = j.at("name").get<std::string>();
    s.direction = parse_direction(j.at("direction").get<std::string>());
    s.created_at = j.at("created_at").get<double>();
    s.space_json = j.at("space").dump();
    s.options_json = j.at("options").dump();
    return s;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed study JSON: ") + e.what());
  }
}

StoredTrial trial_from_json(const json& j) {
  try {
    StoredTrial t;
    t.id = j.at("id").get<std::int64_t>();
    t.state = parse_trial_state(j.at("state").get<std::string>());
    const json& params = j.at("params");
    if (!params.is_object()) throw InvalidArgument("trial params must be an object");
    for (const auto& [name, v] : params.items()) {
      if (v.is_number_integer()) {
        t.params[name] = v.get<std::int64_t>();
      } else if (v.is_number()) {
        t.params[name] = v.get<double>();
      } else if (v.is_string()) {
        t.params[name] = v.get<std::string>();
      } else {
        throw InvalidArgument("trial param '" + name + "' is not a number or string");
      }
    }
    if (!j.at("value").is_null()) t.value = j.at("value").get<double>();
    t.worker_id = j.at("worker_id").get<std::string>();
    t.source = j.at("source").get<std::string>();
    t.created_at = j.at("created_at").get<double>();
    t.finished_at = j.at("finished_at").get<double>();
    t.lease_deadline = j.at("lease_deadline").get<double>();
    return t;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed trial JSON: ") + e.what());
  }
}

}  // namespace gpbo::server

#include "gpbo/error.hpp"
#include "gpbo/report.hpp"
#include "service/study_json.hpp"
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
                                          const std::string& worker_id, const json& fixed) {
  if (q < 1 || q > kMaxAskBatch) {
    throw InvalidArgument("ask: q must be in 1.." + std::to_string(kMaxAskBatch) + ", got " +
                          std::to_string(q));
  }
  const std::shared_ptr<Entry> e = entry(study);
  Params values;
  if (!fixed.is_object()) {
    throw InvalidArgument("fixed values must be a JSON object of name: value, got " + fixed.dump());
  }
  if (!fixed.empty()) {
    const Space space = Space::from_json(e->study.info().space_json);
    values = decode_params(fixed, &space);
    space.with_fixed(values);  // bad values fail this ask alone, not a batch
  }
  Waiter self;
  self.request = {q, worker_id, std::move(values)};
  std::unique_lock<std::mutex> lock(e->ask_mutex);
  e->waiting.push_back(&self);
  while (!self.done) {
    if (e->planning) {
      e->ask_done.wait(lock);
      continue;
    }
    // Plan for the asks queued so far, oldest first, as many as one batch holds and as long as
    // they fix the same values.
    e->planning = true;
    std::vector<Waiter*> batch;
    int total = 0;
    while (!e->waiting.empty() && total + e->waiting.front()->request.q <= kMaxAskBatch &&
           (batch.empty() || e->waiting.front()->request.fixed == batch.front()->request.fixed)) {
      total += e->waiting.front()->request.q;
      batch.push_back(e->waiting.front());
      e->waiting.pop_front();
    }
    lock.unlock();
    std::vector<PersistentStudy::AskRequest> requests;
    for (const Waiter* w : batch) requests.push_back(w->request);
    std::vector<std::vector<Trial>> answers;
    std::exception_ptr error;
    try {
      answers = e->study.ask_batch(requests);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (error) {
        batch[i]->error = error;
      } else if (answers[i].empty()) {
        batch[i]->error =
            std::make_exception_ptr(Conflict("search space exhausted: no unsuggested point left"));
      } else {
        batch[i]->trials = std::move(answers[i]);
      }
      batch[i]->done = true;
    }
    e->planning = false;
    e->ask_done.notify_all();
  }
  if (self.error) std::rethrow_exception(self.error);
  return std::move(self.trials);
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

nlohmann::json LocalStudyService::drift(const std::string& study) {
  PersistentStudy& s = entry(study)->study;
  StudyOptions options;
  PersistenceOptions persistence;
  study_options_from_json(s.info().options_json, &options, &persistence);
  return drift_to_json(options.drift, s.drift_checks());
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

// PersistentStudy: a study in a Storage. Each call is one transaction; an ask is planned on a
// snapshot (ask_plan.hpp) and committed when no other worker wrote in between.
#include "gpbo/persistent_study.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "common/clock.hpp"
#include "engine/ask_plan.hpp"
#include "engine/engine_state.hpp"
#include "engine/pruner.hpp"
#include "engine/resident_factor.hpp"
#include "engine/stored_study.hpp"
#include "engine/tell.hpp"
#include "engine/warm_model.hpp"
#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {
namespace {

using nlohmann::json;

/// Optimistic attempts before an ask plans inside its write transaction. One: a lost race
/// costs one wasted plan, which matters when many workers share few cores.
constexpr int kOptimisticAsks = 1;

/// A result in a log entry: {"value": v} or, with metrics, {"values": {...}} (and the value).
json result_detail(const Trial& t) {
  json detail = json::object();
  if (t.value) detail["value"] = *t.value;
  if (!t.values.empty()) detail["values"] = metric_values_to_json(t.values);
  return detail;
}

/// A tell of the values `values_for` gives for the study's metrics, in one transaction.
Trial tell_values(Storage& storage, const std::string& name, std::int64_t trial_id,
                  bool skip_if_finished,
                  const std::function<MetricValues(const Metrics&)>& values_for) {
  Trial out;
  storage.write(name, [&](StudyTransaction& tx) {
    StudyOptions options;
    PersistenceOptions persistence;
    study_options_from_json(tx.study().options_json, &options, &persistence);
    const MetricValues values = values_for(options.metrics);
    check_values(options.metrics, values);
    out = tx.trial(trial_id);
    const double now = now_seconds();
    if (!apply_values(&out, options.metrics, values, skip_if_finished, now)) return;
    tx.update_trial(out);
    tx.append_log(log_entry(now, "tell", out, result_detail(out)));
  });
  return out;
}

}  // namespace

PersistentStudy PersistentStudy::create(std::shared_ptr<Storage> storage, const std::string& name,
                                        const Space& space, const StudyOptions& options,
                                        const PersistenceOptions& persistence) {
  return create(std::move(storage), name, space, options, persistence, {});
}

WarmStartSource PersistentStudy::warm_start_source(Storage& storage, const std::string& name) {
  WarmStartSource s;
  s.study = name;
  try {
    storage.read(name, [&](StudyTransaction& tx) {
      s.direction = tx.study().direction;
      for (const Trial& t : tx.trials()) {
        if (t.state == TrialState::kComplete && t.value)
          s.observations.push_back({t.params, *t.value});
      }
    });
  } catch (const NotFound&) {
    throw InvalidArgument("warm start: there is no study '" + name + "' in this store");
  }
  return s;
}

PersistentStudy PersistentStudy::create(std::shared_ptr<Storage> storage, const std::string& name,
                                        const Space& space, const StudyOptions& options,
                                        const PersistenceOptions& persistence,
                                        const std::vector<WarmStartSource>& warm_start) {
  if (name.empty() || name.size() > 200) {
    throw InvalidArgument("study name must have 1 to 200 characters");
  }
  if (space.size() == 0) throw InvalidArgument("study '" + name + "': the space has no parameters");
  const StudyOptions normalized = with_objective_direction(options);
  check_study_options(normalized);
  check_persistence_options(persistence);
  StudyInfo info;
  info.name = name;
  info.space_json = space.to_json();
  info.direction = normalized.direction;
  info.options_json = study_options_to_json(normalized, persistence);
  info.created_at = now_seconds();
  if (!warm_start.empty()) {
    for (const WarmStartSource& w : warm_start) {
      if (w.study == name) {
        throw InvalidArgument("warm start: study '" + name + "' cannot learn from itself");
      }
    }
    Study(space, normalized).warm_start_from(warm_start);  // every check, before the write
    EngineState state;
    state.warm_start = warm_start;
    info.state_json = state.dump();
  }
  storage->create_study(info);
  return PersistentStudy(std::move(storage), name);
}

PersistentStudy::PersistentStudy(std::shared_ptr<Storage> storage, std::string name)
    : storage_(std::move(storage)), name_(std::move(name)) {
  storage_->read(name_, [](StudyTransaction&) {});  // NotFound now rather than at first use
}

namespace {

/// Hands the plan's trials to the requests in order (at most q each), with their worker ids.
void share_out(const std::vector<PersistentStudy::AskRequest>& requests,
               const std::vector<std::size_t>& planned, std::vector<Trial>* trials,
               std::vector<std::vector<Trial>>* out) {
  std::size_t next = 0;
  for (std::size_t r : planned) {
    const int q = requests[r].q;
    for (int k = 0; k < q && next < trials->size(); ++k, ++next) {
      (*trials)[next].worker_id = requests[r].worker_id;
      (*out)[r].push_back((*trials)[next]);
    }
  }
}

}  // namespace

std::vector<Trial> PersistentStudy::ask(int q, const std::string& worker_id) {
  return ask(q, worker_id, Params{});
}

std::vector<Trial> PersistentStudy::ask(int q, const std::string& worker_id, const Params& fixed) {
  std::vector<std::vector<Trial>> out = ask_batch({AskRequest{q, worker_id, fixed}});
  return std::move(out.front());
}

std::vector<std::vector<Trial>> PersistentStudy::ask_batch(
    const std::vector<AskRequest>& requests) {
  long long total = 0;
  for (const AskRequest& r : requests) {
    if (r.q < 1 || r.q > kMaxAskBatch) {
      throw InvalidArgument("ask: q must be in 1.." + std::to_string(kMaxAskBatch) + ", got " +
                            std::to_string(r.q));
    }
    total += r.q;
  }
  if (requests.empty() || total > kMaxAskBatch) {
    throw InvalidArgument("ask: a coalesced batch must ask for 1.." + std::to_string(kMaxAskBatch) +
                          " points, got " + std::to_string(total));
  }
  const Params& fixed_values = requests.front().fixed;
  for (const AskRequest& r : requests) {
    if (r.fixed != fixed_values) {
      throw InvalidArgument("ask: the requests of a coalesced batch must fix the same values");
    }
  }
  const int q = static_cast<int>(total);
  std::vector<std::size_t> all(requests.size());
  for (std::size_t r = 0; r < requests.size(); ++r) all[r] = r;
  std::vector<std::vector<Trial>> out(requests.size());

  // The GP fit and the acquisition search take most of an ask. Plan them on a read snapshot,
  // outside the write lock, and commit only if no other worker wrote in between. After a lost
  // race, or when leases must be settled first, plan inside the write transaction (which
  // serializes asks, but always makes progress).
  // Hyperparameters fitted by a plan that lost its race: the plan inside the lock conditions on
  // them instead of fitting again, which keeps the lock short (the data differ by the few trials
  // the winners added).
  std::optional<GpHyperparameters> fitted;
  for (int attempt = 0; attempt < kOptimisticAsks; ++attempt) {
    StudyInfo info;
    std::vector<Trial> trials;
    const Stopwatch read_watch;
    storage_->read(name_, [&](StudyTransaction& tx) {
      info = tx.study();
      trials = tx.trials();
    });
    const double now = now_seconds();
    const StoredStudy stored = StoredStudy::load(info);
    const double read_seconds = read_watch.seconds();
    // Bad fixed values throw here, before any write.
    if (!fixed_values.empty()) stored.space.with_fixed(fixed_values);
    bool settle = false;
    for (const AskRequest& r : requests)
      settle = settle || needs_settling(trials, r.worker_id, now);
    if (settle) break;
    AskPlan plan = plan_ask(stored, trials, q, requests.front().worker_id, now, warm_.get(),
                            std::nullopt, fixed_values);
    plan.load_seconds += read_seconds;
    std::vector<std::vector<Trial>> shared(requests.size());
    share_out(requests, all, &plan.trials, &shared);
    bool committed = false;
    storage_->write(name_, [&](StudyTransaction& tx) {
      committed = tx.trial_count() == static_cast<std::int64_t>(trials.size()) &&
                  tx.study().state_json == info.state_json;
      if (committed) apply_plan(tx, plan, now);
    });
    if (committed) {
      schedule_refit(count_complete(trials));
      return shared;
    }
    if (!plan.model.is_null()) fitted = plan.state.hyper;  // a fresh fit
  }

  std::size_t n_complete = 0;
  storage_->write(name_, [&](StudyTransaction& tx) {
    for (std::vector<Trial>& o : out) o.clear();  // the transaction may be retried
    const Stopwatch read_watch;
    StoredStudy stored = StoredStudy::load(tx.study());
    if (!fixed_values.empty()) stored.space.with_fixed(fixed_values);  // before any write
    const double now = now_seconds();
    settle_expired(tx, stored.persistence, &stored.state, now);
    std::vector<Trial> trials = tx.trials();
    const double read_seconds = read_watch.seconds();
    // A worker that already holds running trials gets them back instead of new ones.
    std::vector<std::size_t> planned;
    int planned_q = 0;
    for (std::size_t r = 0; r < requests.size(); ++r) {
      const std::string& worker_id = requests[r].worker_id;
      if (!worker_id.empty()) {
        for (Trial& t : trials) {
          if (t.state != TrialState::kRunning || t.worker_id != worker_id) continue;
          renew_lease(&t, stored.persistence, now);
          tx.update_trial(t);
          tx.append_log(log_entry(now, "ask", t, {{"resumed", true}}));
          out[r].push_back(t);
        }
      }
      if (out[r].empty()) {
        planned.push_back(r);
        planned_q += requests[r].q;
      }
    }
    if (planned.empty()) {
      tx.set_state_json(stored.state.dump());
      return;
    }
    AskPlan plan = plan_ask(stored, trials, planned_q, requests[planned.front()].worker_id, now,
                            warm_.get(), fitted, fixed_values);
    plan.load_seconds += read_seconds;
    share_out(requests, planned, &plan.trials, &out);
    apply_plan(tx, plan, now);
    n_complete = count_complete(trials);
  });
  schedule_refit(n_complete);
  return out;
}

void PersistentStudy::keep_model_warm(const WarmModelOptions& options) {
  check_warm_model_options(options);
  warm_ = std::make_shared<WarmModel>(options);
}

PersistentStudy::WarmStats PersistentStudy::warm_stats() const {
  if (!warm_) return {};
  const WarmModel::Stats s = warm_->stats();
  return {s.fits, s.warm_asks, s.resident_asks};
}

void PersistentStudy::wait_for_refit() const {
  if (warm_) warm_->wait();
}

void PersistentStudy::schedule_refit(std::size_t n_complete) {
  if (!warm_) return;
  // The job owns what it uses (not `this`, which a caller may destroy or move); the warm model
  // joins its thread before it is destroyed.
  warm_->maybe_refit(n_complete, [storage = storage_, name = name_, warm = warm_.get()] {
    try {
      StudyInfo info;
      std::vector<Trial> trials;
      storage->read(name, [&](StudyTransaction& tx) {
        info = tx.study();
        trials = tx.trials();
      });
      Study study = rebuild_study(StoredStudy::load(info), trials);
      if (const auto h = warm->hyper()) study.set_warm_start(*h);
      // The fit ends with one factorization of every complete trial under the new
      // hyperparameters: it replaces the resident factor, and the next asks extend it.
      study.keep_resident_factor(nullptr);
      if (const auto fitted = study.fit_hyperparameters()) {
        warm->record_fit(*fitted, count_complete(trials), study.take_resident_factor());
      }
    } catch (const std::exception&) {
      // Keep the hyperparameters we have; the next ask that finds a refit due tries again.
    }
  });
}

Trial PersistentStudy::tell(std::int64_t trial_id, double value, bool skip_if_finished) {
  check_value(value);  // before the store is touched
  return tell_values(*storage_, name_, trial_id, skip_if_finished,
                     [value](const Metrics& metrics) { return values_of(metrics, value); });
}

Trial PersistentStudy::tell(std::int64_t trial_id, const MetricValues& values,
                            bool skip_if_finished) {
  return tell_values(*storage_, name_, trial_id, skip_if_finished,
                     [&values](const Metrics&) { return values; });
}

Trial PersistentStudy::tell_state(std::int64_t trial_id, TrialState state, bool skip_if_finished) {
  check_final_state(state);
  Trial out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    out = tx.trial(trial_id);
    const double now = now_seconds();
    if (!apply_state(&out, state, skip_if_finished, now)) return;
    tx.update_trial(out);
    // A pruned trial's kept value (its last intermediate one) goes into the log, for verify.
    tx.append_log(log_entry(now, state == TrialState::kFailed ? "fail" : "prune", out,
                            state == TrialState::kPruned ? result_detail(out) : json::object()));
  });
  return out;
}

PruneAnswer PersistentStudy::report(std::int64_t trial_id, std::int64_t step, double value) {
  PruneAnswer out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    StudyOptions options;
    PersistenceOptions persistence;
    study_options_from_json(tx.study().options_json, &options, &persistence);
    check_reportable(options.metrics);
    std::vector<Trial> trials = tx.trials();
    if (trial_id < 0 || trial_id >= static_cast<std::int64_t>(trials.size())) {
      throw NotFound("study '" + name_ + "' has no trial " + std::to_string(trial_id));
    }
    Trial& t = trials[static_cast<std::size_t>(trial_id)];
    const bool changed = apply_report(&t, step, value);
    out.trial = t;
    out.prune = gpbo::should_prune(options.pruner, options.direction, trials, trial_id);
    if (!changed) return;
    const double now = now_seconds();
    renew_lease(&t, persistence, now);
    out.trial = t;
    tx.update_trial(t);
    tx.append_log(
        log_entry(now, "report", t, json{{"step", step}, {"value", value}, {"prune", out.prune}}));
  });
  return out;
}

bool PersistentStudy::should_prune(std::int64_t trial_id) {
  bool out = false;
  storage_->read(name_, [&](StudyTransaction& tx) {
    const StoredStudy stored = StoredStudy::load(tx.study());
    out =
        gpbo::should_prune(stored.options.pruner, stored.options.direction, tx.trials(), trial_id);
  });
  return out;
}

StudyCost PersistentStudy::cost() {
  std::vector<Trial> all;
  storage_->read(name_, [&](StudyTransaction& tx) { all = tx.trials(); });
  return study_cost(all, now_seconds());
}

Trial PersistentStudy::heartbeat(std::int64_t trial_id) {
  Trial out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    out = tx.trial(trial_id);
    if (out.state != TrialState::kRunning) throw Conflict(already_finished(out));
    PersistenceOptions persistence;
    StudyOptions options;
    study_options_from_json(tx.study().options_json, &options, &persistence);
    const double now = now_seconds();
    renew_lease(&out, persistence, now);
    tx.update_trial(out);
    tx.append_log(log_entry(now, "heartbeat", out, json::object()));
  });
  return out;
}

void PersistentStudy::enqueue(const Params& params) {
  storage_->write(name_, [&](StudyTransaction& tx) {
    StoredStudy stored = StoredStudy::load(tx.study());
    const Params p = stored.space.canonical(params);  // validates before anything is written
    stored.space.check_constraints(p);
    stored.state.queue.push_back({p, "enqueued"});
    tx.set_state_json(stored.state.dump());
    Trial none;
    none.id = -1;
    tx.append_log(log_entry(now_seconds(), "enqueue", none, json{{"params", params_to_json(p)}}));
  });
}

std::vector<Trial> PersistentStudy::add_trials(const std::vector<Trial>& trials) {
  std::vector<Trial> out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    out.clear();  // the transaction may be retried
    const StoredStudy stored = StoredStudy::load(tx.study());
    const Space& space = stored.space;
    const Metrics& metrics = stored.options.metrics;
    const double now = now_seconds();
    std::int64_t next = tx.trial_count();
    for (std::size_t i = 0; i < trials.size(); ++i) {
      // Validated by the rules of a tell before anything is written.
      Trial t;
      try {
        t.params = space.canonical(trials[i].params);
        // Intermediate values come along (checked as a read checks them).
        t.intermediate = intermediate_from_json(intermediate_to_json(trials[i].intermediate));
        if (trials[i].state == TrialState::kComplete) {
          if (!trials[i].values.empty()) {
            apply_values(&t, metrics, trials[i].values, false, now);
          } else if (trials[i].value) {
            apply_values(&t, metrics, values_of(metrics, *trials[i].value), false, now);
          } else {
            throw InvalidArgument("a complete trial needs a value");
          }
        } else {
          apply_state(&t, trials[i].state, false, now);
          // A pruned trial's kept value, given without the values it came from.
          if (t.state == TrialState::kPruned && !t.value && trials[i].value) {
            check_value(*trials[i].value);
            t.value = trials[i].value;
          }
        }
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("add_trials: trial " + std::to_string(i) + ": " + e.what());
      }
      t.id = next++;
      t.source = "imported";
      t.created_at = trials[i].created_at > 0.0 ? trials[i].created_at : now;
      t.finished_at = trials[i].finished_at > 0.0 ? trials[i].finished_at : now;
      out.push_back(std::move(t));
    }
    for (const Trial& t : out) {
      tx.insert_trial(t);
      json detail = result_detail(t);
      detail["params"] = params_to_json(t.params);
      detail["state"] = to_string(t.state);
      if (!t.intermediate.empty()) detail["intermediate"] = intermediate_to_json(t.intermediate);
      tx.append_log(log_entry(now, "import", t, detail));
    }
  });
  return out;
}

std::optional<Trial> PersistentStudy::best() {
  std::optional<Trial> out;
  storage_->read(name_, [&](StudyTransaction& tx) {
    out = best_trial(StoredStudy::load(tx.study()).options, tx.trials());
  });
  return out;
}

std::vector<DriftCheck> PersistentStudy::drift_checks() {
  std::vector<DriftCheck> out;
  storage_->read(
      name_, [&](StudyTransaction& tx) { out = StoredStudy::load(tx.study()).state.drift_checks; });
  return out;
}

std::vector<std::int64_t> PersistentStudy::outliers() {
  std::vector<std::int64_t> out;
  storage_->read(name_,
                 [&](StudyTransaction& tx) { out = StoredStudy::load(tx.study()).state.outliers; });
  return out;
}

ParetoFront PersistentStudy::pareto() {
  ParetoFront out;
  storage_->read(name_, [&](StudyTransaction& tx) {
    out = pareto_front(StoredStudy::load(tx.study()).options, tx.trials());
  });
  return out;
}

std::vector<Trial> PersistentStudy::trials() {
  std::vector<Trial> out;
  storage_->read(name_, [&](StudyTransaction& tx) { out = tx.trials(); });
  return out;
}

Trial PersistentStudy::trial(std::int64_t trial_id) {
  Trial out;
  storage_->read(name_, [&](StudyTransaction& tx) { out = tx.trial(trial_id); });
  return out;
}

StudyInfo PersistentStudy::info() {
  StudyInfo out;
  storage_->read(name_, [&](StudyTransaction& tx) { out = tx.study(); });
  return out;
}

std::vector<LogEntry> PersistentStudy::log() { return storage_->log(name_); }

VerifyReport PersistentStudy::verify() { return verify_study(*storage_, name_); }

}  // namespace gpbo

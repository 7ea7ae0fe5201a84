#include "engine/ask_plan.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "engine/resident_factor.hpp"
#include "engine/warm_model.hpp"
#include "space/params_json.hpp"

namespace gpbo {

using nlohmann::json;

std::size_t count_complete(const std::vector<Trial>& trials) {
  return static_cast<std::size_t>(std::count_if(trials.begin(), trials.end(), [](const Trial& t) {
    return t.state == TrialState::kComplete;
  }));
}

Study rebuild_study(const StoredStudy& stored, const std::vector<Trial>& trials) {
  Study study(stored.space, stored.options);
  if (!stored.state.warm_start.empty()) {
    study.warm_start_from(stored.state.warm_start);
    study.set_prior_hyperparameters(stored.state.prior_hyper);
    if (stored.state.transfer_weight) study.restore_transfer_weight(*stored.state.transfer_weight);
  }
  for (const Trial& t : trials) {
    if (t.state == TrialState::kComplete && !stored.options.metrics.empty()) {
      study.add_trial(t.params, t.state, t.values, t.source);
    } else {
      study.add_trial(t.params, t.state, t.value, t.source);
    }
  }
  for (const Trial& t : trials) {
    if (t.finished_at != 0.0) study.restore_finished_at(t.id, t.finished_at);
  }
  study.restore_drift_checks(stored.state.drift_checks);
  if (!stored.state.trust_regions.empty()) study.set_trust_regions(stored.state.trust_regions);
  study.reseed(static_cast<std::uint64_t>(trials.size()));
  return study;
}

AskPlan plan_ask(const StoredStudy& stored, const std::vector<Trial>& trials, int q,
                 const std::string& worker_id, double now, WarmModel* warm,
                 const std::optional<GpHyperparameters>& fixed, const Params& fixed_values) {
  const Stopwatch watch;
  Study study = rebuild_study(stored, trials);
  const double rebuild_seconds = watch.seconds();
  const std::optional<GpHyperparameters> kept = warm ? warm->hyper() : std::nullopt;
  const std::size_t n_complete = count_complete(trials);
  // A cold ask (the CLI, a restarted server) on a long history conditions on the stored
  // hyperparameters until the data has grown by the refit rule, as a warm model does: each
  // refit there is an O(n^3) search, each conditioning one factorization.
  const bool stored_current =
      stored.state.hyper && stored.state.hyper_n > 0 &&
      n_complete >= static_cast<std::size_t>(stored.options.gp.warm_only_above) &&
      !refit_due(static_cast<std::size_t>(stored.state.hyper_n), n_complete, WarmModelOptions{});
  bool refits = false;
  if (kept) {
    study.fix_hyperparameters(*kept);
  } else if (fixed) {
    study.fix_hyperparameters(*fixed);  // fitted moments ago by a plan that lost its race
    refits = true;
  } else if (stored_current) {
    study.fix_hyperparameters(*stored.state.hyper);
  } else {
    if (stored.state.hyper) study.set_warm_start(*stored.state.hyper);
    refits = true;
  }
  if (!stored.state.metric_hyper.empty()) study.set_metric_warm_starts(stored.state.metric_hyper);
  for (const EngineState::QueuedPoint& p : stored.state.queue) study.enqueue(p.params);
  if (warm) study.keep_resident_factor(warm->take_factor());

  AskPlan plan;
  plan.load_seconds = rebuild_seconds;
  plan.state = stored.state;
  plan.shift_threshold = stored.options.drift.shift_threshold;
  std::size_t dequeued = 0;
  for (Trial t : study.ask(q, fixed_values)) {
    // Enqueued points come out in queue order; keep the queue's own label (requeued or not).
    if (t.source == "enqueued") t.source = stored.state.queue.at(dequeued++).source;
    t.worker_id = worker_id;
    t.created_at = now;
    renew_lease(&t, stored.persistence, now);
    plan.trials.push_back(std::move(t));
  }
  plan.state.queue.erase(plan.state.queue.begin(),
                         plan.state.queue.begin() + static_cast<std::ptrdiff_t>(dequeued));
  plan.state.hyper = study.warm_start();
  plan.state.metric_hyper = study.metric_warm_starts();
  plan.state.prior_hyper = study.prior_hyperparameters();
  plan.state.transfer_weight = study.last_transfer_weight();
  const bool modelled = study.last_batch_method() != BatchMethod::kAuto;
  if (modelled && refits) plan.state.hyper_n = static_cast<std::int64_t>(n_complete);
  if (modelled) {
    plan.state.outliers = study.outliers();
    const StudyOptions& o = study.options();
    plan.model = {{"device", study.device().to_string()},
                  {"strategy", to_string(study.strategy())},
                  {"batch_method", to_string(study.last_batch_method())},
                  {"acquisition", to_string(o.acquisition)},
                  {"kernel", to_string(o.gp.kernel)},
                  {"score_precision", to_string(o.score_precision)}};
    plan.split = study.last_ask_split();
  }
  if (warm && modelled && plan.state.hyper && !kept) {
    warm->record_fit(*plan.state.hyper, n_complete, study.take_resident_factor());
  } else if (warm) {
    if (modelled && plan.state.hyper) warm->count_warm_ask(study.last_ask_split().resident);
    warm->keep_factor(study.take_resident_factor());  // or back, unused
  }
  plan.state.trust_regions = study.trust_regions();
  plan.state.drift_checks = study.drift_checks();
  for (std::size_t i = stored.state.drift_checks.size(); i < plan.state.drift_checks.size(); ++i) {
    if (plan.state.drift_checks[i].shift) plan.shifts.push_back(plan.state.drift_checks[i]);
  }
  return plan;
}

void apply_plan(StudyTransaction& tx, const AskPlan& plan, double now) {
  json model = plan.model;
  if (!model.is_null()) {
    const AskSplit& s = plan.split;
    model["seconds"] = {{"load", plan.load_seconds},
                        {"fit", s.fit},
                        {"factor", s.factor},
                        {"acquisition", s.acquisition}};
    model["resident"] = s.resident;
  }
  for (const Trial& t : plan.trials) {
    json detail = {{"params", params_to_json(t.params)}};
    if (t.source == "model" && !model.is_null()) detail["model"] = model;
    tx.insert_trial(t);
    tx.append_log(log_entry(now, "ask", t, detail));
  }
  for (const DriftCheck& c : plan.shifts) {
    const Trial t = tx.trial(c.trial_id);
    tx.append_log(log_entry(now, "shift", t, {{"z", c.z}, {"threshold", plan.shift_threshold}}));
  }
  tx.set_state_json(plan.state.dump());
}

}  // namespace gpbo

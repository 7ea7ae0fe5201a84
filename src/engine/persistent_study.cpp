#include "gpbo/persistent_study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {
namespace {

using nlohmann::json;

/// The engine state carried between asks: queued points, warm-start hyperparameters and the
/// trust region (see trust_region_state_to_json).
struct EngineState {
  /// Points to ask first, oldest first: {"params": {...}, "source": "enqueued"|"requeued"}.
  std::vector<json> queue;
  std::optional<GpHyperparameters> hyper;
  /// One object per trust region: "trust_region" holds the only one, "trust_regions" several.
  std::vector<json> trust_regions;

  static EngineState parse(const std::string& text) {
    EngineState s;
    const json j = json::parse(text);
    if (j.contains("queue")) s.queue = j.at("queue").get<std::vector<json>>();
    if (j.contains("trust_regions")) {
      s.trust_regions = j.at("trust_regions").get<std::vector<json>>();
    } else if (j.contains("trust_region")) {
      s.trust_regions = {j.at("trust_region")};
    }
    if (j.contains("hyper")) {
      const json& h = j.at("hyper");
      GpHyperparameters g;
      const auto ls = h.at("lengthscales").get<std::vector<double>>();
      g.lengthscales = Eigen::Map<const Eigen::VectorXd>(ls.data(), ls.size());
      g.outputscale = h.at("outputscale").get<double>();
      g.noise = h.at("noise").get<double>();
      g.mean = h.at("mean").get<double>();
      s.hyper = g;
    }
    return s;
  }

  std::string dump() const {
    json j = {{"queue", queue}};
    if (hyper) {
      j["hyper"] = {{"lengthscales",
                     std::vector<double>(hyper->lengthscales.data(),
                                         hyper->lengthscales.data() + hyper->lengthscales.size())},
                    {"outputscale", hyper->outputscale},
                    {"noise", hyper->noise},
                    {"mean", hyper->mean}};
    }
    // One region keeps the single-object form that earlier versions read.
    if (trust_regions.size() == 1) j["trust_region"] = trust_regions[0];
    if (trust_regions.size() > 1) j["trust_regions"] = trust_regions;
    return j.dump();
  }
};

LogEntry log_entry(double now, const char* event, const StoredTrial& t, json detail) {
  return LogEntry{now, event, t.id, t.worker_id, detail.dump()};
}

/// Marks RUNNING trials whose lease ran out as FAILED (and requeues their points if asked).
void settle_expired(StudyTransaction& tx, const PersistenceOptions& p, EngineState* state,
                    double now) {
  for (StoredTrial t : tx.trials()) {
    if (t.state != TrialState::kRunning || t.lease_deadline <= 0.0 || t.lease_deadline >= now) {
      continue;
    }
    t.state = TrialState::kFailed;
    t.finished_at = now;
    tx.update_trial(t);
    tx.append_log(log_entry(now, "expire", t, {{"requeued", p.requeue_expired}}));
    if (p.requeue_expired) {
      state->queue.insert(state->queue.begin(),
                          json{{"params", params_to_json(t.params)}, {"source", "requeued"}});
    }
  }
}

std::string finished_message(const StoredTrial& t) {
  std::string m = "trial " + std::to_string(t.id) + " is already " + to_string(t.state);
  if (t.value) m += " with value " + json(*t.value).dump();
  return m;
}

/// The "trust_region" object of the study options: any of its keys, each checked.
void trust_region_options_from_json(const json& j, TrustRegionOptions* t) {
  if (!j.is_object()) throw InvalidArgument("study options: trust_region must be an object");
  for (const auto& [key, v] : j.items()) {
    if (key == "length_init") {
      t->length_init = v.get<double>();
    } else if (key == "length_min") {
      t->length_min = v.get<double>();
    } else if (key == "length_max") {
      t->length_max = v.get<double>();
    } else if (key == "success_tolerance") {
      t->success_tolerance = v.get<int>();
    } else if (key == "failure_tolerance") {
      t->failure_tolerance = v.get<int>();
    } else if (key == "n_candidates") {
      t->n_candidates = v.get<int>();
    } else if (key == "max_points") {
      t->max_points = v.get<int>();
    } else if (key == "n_regions") {
      t->n_regions = v.get<int>();
    } else {
      throw InvalidArgument("study options: unknown trust_region key '" + key + "'");
    }
  }
  if (!(t->length_min > 0.0 && t->length_min <= t->length_init && t->length_init <= t->length_max &&
        std::isfinite(t->length_max)) ||
      t->success_tolerance < 1 || t->failure_tolerance < 0 || t->n_candidates < 0 ||
      t->max_points < 0 || t->n_regions < 1 || t->n_regions > kMaxTrustRegions) {
    throw InvalidArgument(
        "study options: trust_region needs 0 < length_min <= length_init <= length_max, "
        "success_tolerance >= 1, failure_tolerance, n_candidates, max_points >= 0 and "
        "1 <= n_regions <= " +
        std::to_string(kMaxTrustRegions));
  }
}

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string study_options_to_json(const StudyOptions& o, const PersistenceOptions& p) {
  return json{{"seed", o.seed},
              {"n_initial", o.n_initial},
              {"acquisition", to_string(o.acquisition)},
              {"kernel", to_string(o.gp.kernel)},
              {"batch_method", to_string(o.batch_method)},
              {"strategy", to_string(o.strategy)},
              {"trust_region",
               {{"length_init", o.trust_region.length_init},
                {"length_min", o.trust_region.length_min},
                {"length_max", o.trust_region.length_max},
                {"success_tolerance", o.trust_region.success_tolerance},
                {"failure_tolerance", o.trust_region.failure_tolerance},
                {"n_candidates", o.trust_region.n_candidates},
                {"max_points", o.trust_region.max_points},
                {"n_regions", o.trust_region.n_regions}}},
              {"output_warping", to_string(o.output_warping)},
              {"noise", to_string(o.noise)},
              {"lease_seconds", p.lease_seconds},
              {"requeue_expired", p.requeue_expired}}
      .dump();
}

void study_options_from_json(const std::string& text, StudyOptions* o, PersistenceOptions* p) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("study options: malformed JSON: ") + e.what());
  }
  if (!j.is_object()) throw InvalidArgument("study options must be a JSON object");
  try {
    for (const auto& [key, v] : j.items()) {
      if (key == "seed") {
        o->seed = v.get<std::uint64_t>();
      } else if (key == "n_initial") {
        o->n_initial = v.get<int>();
        if (o->n_initial < 0) throw InvalidArgument("study options: n_initial must be >= 0");
      } else if (key == "acquisition") {
        o->acquisition = parse_acquisition(v.get<std::string>());
      } else if (key == "kernel") {
        o->gp.kernel = parse_kernel(v.get<std::string>());
      } else if (key == "batch_method") {
        o->batch_method = parse_batch_method(v.get<std::string>());
      } else if (key == "strategy") {
        o->strategy = parse_strategy(v.get<std::string>());
      } else if (key == "trust_region") {
        trust_region_options_from_json(v, &o->trust_region);
      } else if (key == "output_warping") {
        o->output_warping = parse_output_warping(v.get<std::string>());
      } else if (key == "noise") {
        o->noise = parse_noise_model(v.get<std::string>());
      } else if (key == "lease_seconds") {
        p->lease_seconds = v.get<double>();
        if (!(p->lease_seconds > 0.0) || !std::isfinite(p->lease_seconds)) {
          throw InvalidArgument("study options: lease_seconds must be positive");
        }
      } else if (key == "requeue_expired") {
        p->requeue_expired = v.get<bool>();
      } else {
        throw InvalidArgument("study options: unknown key '" + key + "'");
      }
    }
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("study options: wrong type: ") + e.what());
  }
  check_study_options(*o);
}

PersistentStudy PersistentStudy::create(std::shared_ptr<Storage> storage, const std::string& name,
                                        const Space& space, const StudyOptions& options,
                                        const PersistenceOptions& persistence) {
  if (name.empty() || name.size() > 200) {
    throw InvalidArgument("study name must have 1 to 200 characters");
  }
  if (space.size() == 0) throw InvalidArgument("study '" + name + "': the space has no parameters");
  check_study_options(options);
  StudyInfo info;
  info.name = name;
  info.space_json = space.to_json();
  info.direction = options.direction;
  info.options_json = study_options_to_json(options, persistence);
  info.created_at = now_seconds();
  storage->create_study(info);
  return PersistentStudy(std::move(storage), name);
}

PersistentStudy::PersistentStudy(std::shared_ptr<Storage> storage, std::string name)
    : storage_(std::move(storage)), name_(std::move(name)) {
  storage_->read(name_, [](StudyTransaction&) {});  // NotFound now rather than at first use
}

/// The in-memory model state of keep_model_warm(): kept hyperparameters, the data size they
/// were fitted at, and at most one background refit.
class WarmModel {
 public:
  explicit WarmModel(const WarmModelOptions& options) : options_(options) {}
  ~WarmModel() { wait(); }

  /// The kept hyperparameters, if any.
  std::optional<GpHyperparameters> hyper() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hyper_;
  }
  void record_fit(const GpHyperparameters& h, std::size_t n_complete) {
    std::lock_guard<std::mutex> lock(mu_);
    hyper_ = h;
    n_fit_ = n_complete;
    ++stats_.fits;
  }
  void count_warm_ask() {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.warm_asks;
  }
  PersistentStudy::WarmStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  /// Starts `job` on the background thread when a refit is due for `n_complete` trials and none
  /// is running.
  void maybe_refit(std::size_t n_complete, std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!hyper_ || refitting_ || n_complete <= n_fit_) return;
    const double grown = std::ceil(options_.refit_growth * static_cast<double>(n_fit_));
    const auto due = static_cast<std::size_t>(
        std::clamp(grown, 1.0, static_cast<double>(std::max(1, options_.refit_every))));
    if (n_complete - n_fit_ < due) return;
    if (worker_.joinable()) worker_.join();  // the previous refit has finished
    refitting_ = true;
    worker_ = std::thread([this, job = std::move(job)] {
      job();
      std::lock_guard<std::mutex> done(mu_);
      refitting_ = false;
    });
  }
  void wait() {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      t = std::move(worker_);
    }
    if (t.joinable()) t.join();
  }

 private:
  const WarmModelOptions options_;
  mutable std::mutex mu_;
  std::optional<GpHyperparameters> hyper_;
  std::size_t n_fit_ = 0;
  bool refitting_ = false;
  std::thread worker_;
  PersistentStudy::WarmStats stats_;
};

namespace {

/// The outcome of one ask, computed from a study's data before it is written.
struct AskPlan {
  std::vector<StoredTrial> trials;
  std::string state_json;
};

std::size_t count_complete(const std::vector<StoredTrial>& stored) {
  return static_cast<std::size_t>(std::count_if(stored.begin(), stored.end(), [](const auto& t) {
    return t.state == TrialState::kComplete;
  }));
}

/// The engine's Study rebuilt from a stored study's data, with the trust region of `state`
/// (its queue and warm start are left to the caller).
Study rebuild_study(const StudyInfo& info, const std::vector<StoredTrial>& stored,
                    const EngineState& state) {
  const Space space = Space::from_json(info.space_json);
  StudyOptions options;
  PersistenceOptions persistence;
  study_options_from_json(info.options_json, &options, &persistence);
  options.direction = info.direction;
  Study study(space, options);
  for (const StoredTrial& t : stored) study.add_trial(t.params, t.state, t.value, t.source);
  if (!state.trust_regions.empty()) {
    std::vector<TrustRegionState> regions;
    for (const json& r : state.trust_regions)
      regions.push_back(trust_region_state_from_json(r.dump(), space.encoded_dim()));
    study.set_trust_regions(std::move(regions));
  }
  study.reseed(static_cast<std::uint64_t>(stored.size()));
  return study;
}

/// Rebuilds the study from `stored`, asks it for q points and returns them as RUNNING trials
/// leased to `worker_id`, with the engine state that follows. With a warm model holding
/// hyperparameters, the GP is conditioned on them instead of refitted. Pure apart from the warm
/// model's record: writes nothing.
AskPlan plan_ask(const StudyInfo& info, const std::vector<StoredTrial>& stored, EngineState state,
                 int q, const std::string& worker_id, double now, WarmModel* warm,
                 const std::optional<GpHyperparameters>& fixed = std::nullopt) {
  StudyOptions options;
  PersistenceOptions persistence;
  study_options_from_json(info.options_json, &options, &persistence);
  Study study = rebuild_study(info, stored, state);
  const Space& space = study.space();
  const std::optional<GpHyperparameters> kept = warm ? warm->hyper() : std::nullopt;
  if (kept) {
    study.fix_hyperparameters(*kept);
  } else if (fixed) {
    study.fix_hyperparameters(*fixed);
  } else if (state.hyper) {
    study.set_warm_start(*state.hyper);
  }
  for (const json& item : state.queue) study.enqueue(params_from_json(item.at("params"), space));

  AskPlan plan;
  std::size_t dequeued = 0;
  for (const Trial& t : study.ask(q)) {
    StoredTrial s;
    s.id = t.id;
    s.params = t.params;
    s.state = TrialState::kRunning;
    s.worker_id = worker_id;
    // Enqueued points come out in queue order; keep the queue's own label (requeued or not).
    s.source = t.source == "enqueued" ? state.queue.at(dequeued).at("source").get<std::string>()
                                      : t.source;
    s.created_at = s.heartbeat_at = now;
    s.lease_deadline = now + persistence.lease_seconds;
    dequeued += t.source == "enqueued";
    plan.trials.push_back(std::move(s));
  }
  state.queue.erase(state.queue.begin(),
                    state.queue.begin() + static_cast<std::ptrdiff_t>(dequeued));
  state.hyper = study.warm_start();
  if (warm && study.last_batch_method() != BatchMethod::kAuto && state.hyper) {  // modelled
    if (kept) {
      warm->count_warm_ask();
    } else {
      warm->record_fit(*state.hyper, count_complete(stored));
    }
  }
  state.trust_regions.clear();
  for (const TrustRegionState& r : study.trust_regions())
    state.trust_regions.push_back(json::parse(trust_region_state_to_json(r)));
  plan.state_json = state.dump();
  return plan;
}

void apply_plan(StudyTransaction& tx, const AskPlan& plan, double now) {
  for (const StoredTrial& s : plan.trials) {
    tx.insert_trial(s);
    tx.append_log(log_entry(now, "ask", s, {{"params", params_to_json(s.params)}}));
  }
  tx.set_state_json(plan.state_json);
}

/// Whether an ask on this snapshot has to write anything besides its new trials: an expired
/// lease to settle, or a running trial of `worker_id` to hand back.
bool needs_settling(const std::vector<StoredTrial>& stored, const std::string& worker_id,
                    double now) {
  for (const StoredTrial& t : stored) {
    if (t.state != TrialState::kRunning) continue;
    if (t.lease_deadline > 0.0 && t.lease_deadline < now) return true;
    if (!worker_id.empty() && t.worker_id == worker_id) return true;
  }
  return false;
}

/// Optimistic attempts before an ask plans inside its write transaction. One: a lost race
/// costs one wasted plan, which matters when many workers share few cores.
constexpr int kOptimisticAsks = 1;

}  // namespace

std::vector<StoredTrial> PersistentStudy::ask(int q, const std::string& worker_id) {
  if (q < 1) throw InvalidArgument("ask: q must be >= 1, got " + std::to_string(q));
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
    std::vector<StoredTrial> stored;
    storage_->read(name_, [&](StudyTransaction& tx) {
      info = tx.study();
      stored = tx.trials();
    });
    const double now = now_seconds();
    if (needs_settling(stored, worker_id, now)) break;
    const AskPlan plan =
        plan_ask(info, stored, EngineState::parse(info.state_json), q, worker_id, now, warm_.get());
    bool committed = false;
    storage_->write(name_, [&](StudyTransaction& tx) {
      committed = tx.trial_count() == static_cast<std::int64_t>(stored.size()) &&
                  tx.study().state_json == info.state_json;
      if (committed) apply_plan(tx, plan, now);
    });
    if (committed) {
      schedule_refit(count_complete(stored));
      return plan.trials;
    }
    const bool modelled = std::any_of(plan.trials.begin(), plan.trials.end(),
                                      [](const StoredTrial& t) { return t.source == "model"; });
    if (modelled) fitted = EngineState::parse(plan.state_json).hyper;  // a fresh fit
  }

  std::vector<StoredTrial> out;
  std::size_t n_complete = 0;
  storage_->write(name_, [&](StudyTransaction& tx) {
    out.clear();  // the transaction may be retried
    const StudyInfo& info = tx.study();
    StudyOptions options;
    PersistenceOptions persistence;
    study_options_from_json(info.options_json, &options, &persistence);
    EngineState state = EngineState::parse(info.state_json);
    const double now = now_seconds();
    settle_expired(tx, persistence, &state, now);
    std::vector<StoredTrial> stored = tx.trials();
    if (!worker_id.empty()) {
      for (StoredTrial& t : stored) {
        if (t.state != TrialState::kRunning || t.worker_id != worker_id) continue;
        t.heartbeat_at = now;
        t.lease_deadline = now + persistence.lease_seconds;
        tx.update_trial(t);
        tx.append_log(log_entry(now, "ask", t, {{"resumed", true}}));
        out.push_back(t);
      }
      if (!out.empty()) {
        tx.set_state_json(state.dump());
        return;
      }
    }
    AskPlan plan = plan_ask(info, stored, std::move(state), q, worker_id, now, warm_.get(), fitted);
    apply_plan(tx, plan, now);
    out = std::move(plan.trials);
    n_complete = count_complete(stored);
  });
  schedule_refit(n_complete);
  return out;
}

void check_warm_model_options(const WarmModelOptions& options) {
  if (!(options.refit_growth >= 0.0) || !std::isfinite(options.refit_growth) ||
      options.refit_every < 1) {
    throw InvalidArgument("warm model: refit_growth must be >= 0 and refit_every >= 1");
  }
}

void PersistentStudy::keep_model_warm(const WarmModelOptions& options) {
  check_warm_model_options(options);
  warm_ = std::make_shared<WarmModel>(options);
}

PersistentStudy::WarmStats PersistentStudy::warm_stats() const {
  return warm_ ? warm_->stats() : WarmStats{};
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
      std::vector<StoredTrial> stored;
      storage->read(name, [&](StudyTransaction& tx) {
        info = tx.study();
        stored = tx.trials();
      });
      Study study = rebuild_study(info, stored, EngineState::parse(info.state_json));
      if (const auto h = warm->hyper()) study.set_warm_start(*h);
      if (const auto fitted = study.fit_hyperparameters()) {
        warm->record_fit(*fitted, count_complete(stored));
      }
    } catch (const std::exception&) {
      // Keep the hyperparameters we have; the next ask that finds a refit due tries again.
    }
  });
}

StoredTrial PersistentStudy::tell(std::int64_t trial_id, double value, bool skip_if_finished) {
  if (!std::isfinite(value)) {
    throw InvalidArgument(
        "tell: the value must be a finite number (use the failed state for a "
        "trial that produced none)");
  }
  StoredTrial out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    StoredTrial t = tx.trial(trial_id);
    if (t.state == TrialState::kComplete && t.value && *t.value == value) {
      out = t;  // the same result twice: idempotent
      return;
    }
    if (t.state != TrialState::kRunning) {
      if (skip_if_finished) {
        out = t;
        return;
      }
      throw Conflict(finished_message(t));
    }
    const double now = now_seconds();
    t.state = TrialState::kComplete;
    t.value = value;
    t.finished_at = now;
    tx.update_trial(t);
    tx.append_log(log_entry(now, "tell", t, {{"value", value}}));
    out = t;
  });
  return out;
}

StoredTrial PersistentStudy::tell_state(std::int64_t trial_id, TrialState state,
                                        bool skip_if_finished) {
  if (state != TrialState::kFailed && state != TrialState::kPruned) {
    throw InvalidArgument("tell: the state must be failed or pruned");
  }
  StoredTrial out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    StoredTrial t = tx.trial(trial_id);
    if (t.state == state) {
      out = t;
      return;
    }
    if (t.state != TrialState::kRunning) {
      if (skip_if_finished) {
        out = t;
        return;
      }
      throw Conflict(finished_message(t));
    }
    const double now = now_seconds();
    t.state = state;
    t.finished_at = now;
    tx.update_trial(t);
    tx.append_log(
        log_entry(now, state == TrialState::kFailed ? "fail" : "prune", t, json::object()));
    out = t;
  });
  return out;
}

StoredTrial PersistentStudy::heartbeat(std::int64_t trial_id) {
  StoredTrial out;
  storage_->write(name_, [&](StudyTransaction& tx) {
    StoredTrial t = tx.trial(trial_id);
    if (t.state != TrialState::kRunning) throw Conflict(finished_message(t));
    StudyOptions options;
    PersistenceOptions persistence;
    study_options_from_json(tx.study().options_json, &options, &persistence);
    const double now = now_seconds();
    t.heartbeat_at = now;
    t.lease_deadline = now + persistence.lease_seconds;
    tx.update_trial(t);
    tx.append_log(log_entry(now, "heartbeat", t, json::object()));
    out = t;
  });
  return out;
}

void PersistentStudy::enqueue(const Params& params) {
  storage_->write(name_, [&](StudyTransaction& tx) {
    const Space space = Space::from_json(tx.study().space_json);
    const Params p = space.canonical(params);  // validates before anything is written
    EngineState state = EngineState::parse(tx.study().state_json);
    state.queue.push_back(json{{"params", params_to_json(p)}, {"source", "enqueued"}});
    tx.set_state_json(state.dump());
    tx.append_log(
        LogEntry{now_seconds(), "enqueue", -1, "", json{{"params", params_to_json(p)}}.dump()});
  });
}

std::optional<StoredTrial> PersistentStudy::best() {
  std::optional<StoredTrial> out;
  storage_->read(name_, [&](StudyTransaction& tx) {
    out.reset();
    const bool maximize = tx.study().direction == Direction::kMaximize;
    for (const StoredTrial& t : tx.trials()) {
      if (t.state != TrialState::kComplete) continue;
      if (!out || (maximize ? *t.value > *out->value : *t.value < *out->value)) out = t;
    }
  });
  return out;
}

std::vector<StoredTrial> PersistentStudy::trials() {
  std::vector<StoredTrial> out;
  storage_->read(name_, [&](StudyTransaction& tx) { out = tx.trials(); });
  return out;
}

StudyInfo PersistentStudy::info() {
  StudyInfo out;
  storage_->read(name_, [&](StudyTransaction& tx) { out = tx.study(); });
  return out;
}

std::vector<LogEntry> PersistentStudy::log() { return storage_->log(name_); }

}  // namespace gpbo

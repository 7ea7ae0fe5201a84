// PersistentStudy on the in-memory store: the ask/tell protocol that the CLI and the C API use.
#include "gpbo/persistent_study.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "engine/engine_state.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"

namespace {

using gpbo::Conflict;
using gpbo::InvalidArgument;
using gpbo::NotFound;
using gpbo::PersistenceOptions;
using gpbo::PersistentStudy;
using gpbo::Space;
using gpbo::Storage;
using gpbo::StudyOptions;
using gpbo::Trial;
using gpbo::TrialState;

Space mixed_space() {
  Space s;
  s.add_float("x", -2.0, 2.0).add_int("k", 1, 5).add_categorical("c", {"a", "b"});
  return s;
}

double objective(const gpbo::Params& p) {
  const double x = std::get<double>(p.at("x"));
  const auto k = std::get<std::int64_t>(p.at("k"));
  return x * x + 0.1 * static_cast<double>(k) + (std::get<std::string>(p.at("c")) == "a" ? 0 : 1);
}

PersistentStudy make_study(std::shared_ptr<Storage> storage, const std::string& name,
                           PersistenceOptions p = {}, std::uint64_t seed = 0) {
  StudyOptions o;
  o.seed = seed;
  o.n_initial = 4;
  return PersistentStudy::create(std::move(storage), name, mixed_space(), o, p);
}

TEST(PersistentStudy, AskTellBestRoundTrip) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study = make_study(storage, "s");
  for (int i = 0; i < 8; ++i) {
    const std::vector<Trial> got = study.ask();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].id, i);
    EXPECT_EQ(got[0].state, TrialState::kRunning);
    EXPECT_GT(got[0].lease_deadline, got[0].created_at);
    study.tell(got[0].id, objective(got[0].params));
  }
  const std::vector<Trial> all = study.trials();
  ASSERT_EQ(all.size(), 8u);
  double best = INFINITY;
  for (const Trial& t : all) {
    EXPECT_EQ(t.state, TrialState::kComplete);
    best = std::min(best, *t.value);
  }
  EXPECT_EQ(*study.best()->value, best);
  // A second handle on the same store sees the same study.
  PersistentStudy again(storage, "s");
  EXPECT_EQ(again.trials().size(), 8u);
  // The model's hyperparameters are kept for the next process's warm start.
  EXPECT_TRUE(nlohmann::json::parse(again.info().state_json).contains("hyper"));
}

TEST(PersistentStudy, UnknownStudyAndTrial) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  EXPECT_THROW(PersistentStudy(storage, "missing"), NotFound);
  PersistentStudy study = make_study(storage, "s");
  EXPECT_THROW(study.tell(0, 1.0), NotFound);
  EXPECT_THROW(make_study(storage, "s"), Conflict);
  EXPECT_THROW(study.ask(0), InvalidArgument);
  EXPECT_THROW(study.ask(gpbo::kMaxAskBatch + 1), InvalidArgument);
}

TEST(PersistentStudy, WorkerGetsItsRunningTrialBack) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study = make_study(storage, "s");
  const Trial first = study.ask(1, "w1").front();
  const Trial again = study.ask(1, "w1").front();
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.params, first.params);
  EXPECT_GE(again.lease_deadline, first.lease_deadline);
  const Trial other = study.ask(1, "w2").front();
  EXPECT_NE(other.id, first.id);
  study.tell(first.id, 1.0);
  EXPECT_NE(study.ask(1, "w1").front().id, first.id);  // finished: a new trial now
}

TEST(PersistentStudy, TellIsIdempotentAndRejectsBadValues) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study = make_study(storage, "s");
  const Trial t = study.ask().front();
  EXPECT_THROW(study.tell(t.id, std::nan("")), InvalidArgument);
  EXPECT_THROW(study.tell(t.id, INFINITY), InvalidArgument);
  EXPECT_EQ(study.trials()[0].state, TrialState::kRunning);  // nothing written
  study.tell(t.id, 2.5);
  EXPECT_NO_THROW(study.tell(t.id, 2.5));
  EXPECT_THROW(study.tell(t.id, 3.0), Conflict);
  EXPECT_EQ(*study.tell(t.id, 3.0, /*skip_if_finished=*/true).value, 2.5);
  EXPECT_THROW(study.tell_state(t.id, TrialState::kFailed), Conflict);
  EXPECT_THROW(study.tell_state(t.id, TrialState::kComplete), InvalidArgument);
  const Trial u = study.ask().front();
  EXPECT_EQ(study.tell_state(u.id, TrialState::kPruned).state, TrialState::kPruned);
  EXPECT_NO_THROW(study.tell_state(u.id, TrialState::kPruned));
  EXPECT_THROW(study.tell(u.id, 1.0), Conflict);
  EXPECT_THROW(study.heartbeat(u.id), Conflict);
}

TEST(PersistentStudy, ExpiredLeaseFailsAndRequeues) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistenceOptions p;
  p.lease_seconds = 0.05;
  p.requeue_expired = true;
  PersistentStudy study = make_study(storage, "s", p);
  const Trial lost = study.ask(1, "dead").front();
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  const Trial next = study.ask(1, "alive").front();
  const std::vector<Trial> all = study.trials();
  EXPECT_EQ(all[static_cast<std::size_t>(lost.id)].state, TrialState::kFailed);
  EXPECT_EQ(next.params, lost.params);  // the lost point is evaluated again
  EXPECT_EQ(next.source, "requeued");
  bool logged = false;
  for (const gpbo::LogEntry& e : study.log()) logged = logged || e.event == "expire";
  EXPECT_TRUE(logged);
}

TEST(PersistentStudy, HeartbeatKeepsATrialAlive) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistenceOptions p;
  p.lease_seconds = 0.2;
  PersistentStudy study = make_study(storage, "s", p);
  const Trial t = study.ask(1, "w").front();
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    study.heartbeat(t.id);
  }
  study.ask(1, "other");  // settles expired leases: this one is not
  EXPECT_EQ(study.trials()[static_cast<std::size_t>(t.id)].state, TrialState::kRunning);
}

TEST(PersistentStudy, EnqueueValidatesBeforeWriting) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study = make_study(storage, "s");
  const std::string before = study.info().state_json;
  EXPECT_THROW(study.enqueue({{"x", 9.0}, {"k", std::int64_t{1}}, {"c", std::string("a")}}),
               InvalidArgument);
  EXPECT_THROW(study.enqueue({{"x", 0.0}}), InvalidArgument);
  EXPECT_EQ(study.info().state_json, before);
  const gpbo::Params p{{"x", 0.5}, {"k", std::int64_t{2}}, {"c", std::string("b")}};
  study.enqueue(p);
  const Trial t = study.ask().front();
  EXPECT_EQ(t.params, p);
  EXPECT_EQ(t.source, "enqueued");
  EXPECT_NE(study.ask().front().source, "enqueued");  // consumed once
}

TEST(PersistentStudy, BatchesAreDistinctAndSeedsReproduce) {
  auto run = [](std::uint64_t seed) {
    std::shared_ptr<Storage> storage = Storage::open("memory://");
    PersistentStudy study = make_study(storage, "s", {}, seed);
    std::vector<gpbo::Params> seen;
    for (int round = 0; round < 4; ++round) {
      for (const Trial& t : study.ask(3)) {
        seen.push_back(t.params);
        study.tell(t.id, objective(t.params));
      }
    }
    return seen;
  };
  const auto a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<std::string> distinct;
  for (const gpbo::Params& p : a) {
    std::string key;
    for (const auto& [k, v] : p) key += k + "=" + gpbo::to_string(v) + ";";
    distinct.insert(key);
  }
  EXPECT_EQ(distinct.size(), a.size());
}

TEST(PersistentStudy, OptionsJsonRoundTripAndValidation) {
  StudyOptions o;
  o.seed = 42;
  o.n_initial = 7;
  o.acquisition = gpbo::AcquisitionType::kUCB;
  o.batch_method = gpbo::BatchMethod::kThompson;
  PersistenceOptions p;
  p.lease_seconds = 12.5;
  p.requeue_expired = true;
  StudyOptions o2;
  PersistenceOptions p2;
  gpbo::study_options_from_json(gpbo::study_options_to_json(o, p), &o2, &p2);
  EXPECT_EQ(o2.seed, 42u);
  EXPECT_EQ(o2.n_initial, 7);
  EXPECT_EQ(o2.acquisition, gpbo::AcquisitionType::kUCB);
  EXPECT_EQ(o2.batch_method, gpbo::BatchMethod::kThompson);
  EXPECT_EQ(p2.lease_seconds, 12.5);
  EXPECT_TRUE(p2.requeue_expired);
  EXPECT_THROW(gpbo::study_options_from_json(R"({"sed": 1})", &o2, &p2), InvalidArgument);
  EXPECT_THROW(gpbo::study_options_from_json(R"({"seed": "x"})", &o2, &p2), InvalidArgument);
  EXPECT_THROW(gpbo::study_options_from_json(R"({"lease_seconds": -1})", &o2, &p2),
               InvalidArgument);
  EXPECT_THROW(gpbo::study_options_from_json("{", &o2, &p2), InvalidArgument);
}

}  // namespace

namespace {

TEST(PersistentStudy, LongInitialDesignContinuesAcrossProcesses) {
  // Each ask rebuilds the study; the design must continue where the stored trials left off
  // instead of re-drawing (and rejecting) every earlier design point.
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  StudyOptions o;
  o.n_initial = 100000;
  PersistentStudy study = PersistentStudy::create(storage, "s", mixed_space(), o);
  for (int i = 0; i < 1200; ++i) {
    const Trial t = study.ask().front();
    ASSERT_EQ(t.source, "initial") << "trial " << i;
    study.tell(t.id, objective(t.params));
  }
}

TEST(PersistentStudy, WarmModelConditionsOnKeptHyperparametersAndRefitsInTheBackground) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  StudyOptions o;
  o.n_initial = 4;
  Space space;
  space.add_float("x", -2.0, 2.0).add_float("y", -2.0, 2.0);
  PersistentStudy study = PersistentStudy::create(storage, "w", space, o);
  EXPECT_THROW(study.keep_model_warm({-1.0, 5}), InvalidArgument);
  EXPECT_THROW(study.keep_model_warm({0.1, 0}), InvalidArgument);
  study.keep_model_warm({0.1, 5});
  std::set<std::pair<double, double>> seen;
  for (int i = 0; i < 30; ++i) {
    const Trial t = study.ask(1, "worker").front();
    const double x = std::get<double>(t.params.at("x")), y = std::get<double>(t.params.at("y"));
    EXPECT_TRUE(seen.insert({x, y}).second) << "trial " << i << " repeats a point";
    study.tell(t.id, (x - 0.5) * (x - 0.5) + (y + 0.3) * (y + 0.3));
    // Let a refit that was due finish, so the test sees the schedule rather than the race.
    study.wait_for_refit();
  }
  const PersistentStudy::WarmStats stats = study.warm_stats();
  // 26 model asks: the first fits in the foreground, the rest condition on kept values.
  EXPECT_EQ(stats.warm_asks, 25);
  // Refits: one per new trial while the last fit's size n is below 10 (growth 0.1 -> 1 trial),
  // then every ceil(0.1 n) trials. Far fewer than one per ask, and more than the first.
  EXPECT_GT(stats.fits, 3);
  EXPECT_LT(stats.fits, 26);
  // The model still finds the basin.
  EXPECT_LT(*study.best()->value, 0.05);
  // Copies share the warm model; a plain handle has none.
  PersistentStudy copy = study;
  EXPECT_EQ(copy.warm_stats().fits, stats.fits);
  EXPECT_EQ(PersistentStudy(storage, "w").warm_stats().fits, 0);
}

}  // namespace

namespace {

/// One tell operation on a trial, and what it did: "ok <state> <value>" or the error's kind.
struct TellOp {
  std::function<Trial(gpbo::Study&, std::int64_t)> in_memory;
  std::function<Trial(PersistentStudy&, std::int64_t)> stored;
};

template <typename Call>
std::string outcome(Call&& call) {
  try {
    const Trial t = call();
    return "ok " + gpbo::to_string(t.state) + " " + (t.value ? std::to_string(*t.value) : "-");
  } catch (const std::exception& e) {
    return gpbo::to_string(gpbo::error_kind(e));
  }
}

TEST(PersistentStudy, AskBatchPlansSeveralWorkersAsksAsOneBatch) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study = make_study(storage, "b");
  for (int i = 0; i < 6; ++i) {  // past the initial design
    const Trial t = study.ask().front();
    study.tell(t.id, objective(t.params));
  }
  // Worker "held" already runs a trial: it gets that one back, the others new points.
  const Trial held = study.ask(1, "held").front();
  const std::vector<std::vector<Trial>> got =
      study.ask_batch({{1, "a"}, {2, "b"}, {1, "held"}, {1, ""}});
  ASSERT_EQ(got.size(), 4u);
  ASSERT_EQ(got[0].size(), 1u);
  ASSERT_EQ(got[1].size(), 2u);
  ASSERT_EQ(got[2].size(), 1u);
  ASSERT_EQ(got[3].size(), 1u);
  EXPECT_EQ(got[0][0].worker_id, "a");
  EXPECT_EQ(got[1][0].worker_id, "b");
  EXPECT_EQ(got[1][1].worker_id, "b");
  EXPECT_EQ(got[2][0].id, held.id);
  EXPECT_EQ(got[3][0].worker_id, "");
  std::set<std::int64_t> ids;
  for (const std::vector<Trial>& g : got)
    for (const Trial& t : g) ids.insert(t.id);
  EXPECT_EQ(ids.size(), 5u);
  // Stored as asked: the new trials carry their worker ids, and no point repeats.
  const std::vector<Trial> all = study.trials();
  ASSERT_EQ(all.size(), 11u);
  EXPECT_EQ(all[7].worker_id, "a");
  EXPECT_EQ(all[8].worker_id, "b");
  EXPECT_EQ(all[9].worker_id, "b");
  EXPECT_EQ(all[10].worker_id, "");
  std::set<std::tuple<double, std::int64_t, std::string>> seen;
  for (const Trial& t : all) {
    seen.insert({std::get<double>(t.params.at("x")), std::get<std::int64_t>(t.params.at("k")),
                 std::get<std::string>(t.params.at("c"))});
  }
  EXPECT_EQ(seen.size(), all.size());

  EXPECT_THROW(study.ask_batch({}), InvalidArgument);
  EXPECT_THROW(study.ask_batch({{0, "a"}}), InvalidArgument);
  EXPECT_THROW(study.ask_batch({{gpbo::kMaxAskBatch, "a"}, {1, "b"}}), InvalidArgument);
  EXPECT_EQ(study.trials().size(), 11u);
}

TEST(PersistentStudy, AColdAskKeepsTheStoredHyperparametersUntilTheDataHasGrown) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  StudyOptions o;
  o.n_initial = 4;
  o.gp.warm_only_above = 10;
  Space space;
  space.add_float("x", 0.0, 1.0).add_float("y", 0.0, 1.0);
  PersistentStudy study = PersistentStudy::create(storage, "h", space, o);
  const auto f = [](const gpbo::Params& p) {
    const double x = std::get<double>(p.at("x")), y = std::get<double>(p.at("y"));
    return std::sin(5.0 * x) + (y - 0.4) * (y - 0.4);
  };
  std::vector<Trial> history;
  for (int i = 0; i < 40; ++i) {  // an imported history of 40 points on a 7 x 7 grid
    Trial t;
    t.params = {{"x", (i % 7) / 6.0}, {"y", (i / 7) / 6.0}};
    t.state = TrialState::kComplete;
    t.value = f(t.params);
    history.push_back(t);
  }
  study.add_trials(history);
  const auto state = [&] {
    return gpbo::EngineState::parse(PersistentStudy(storage, "h").info().state_json, space);
  };
  const auto ask_tell = [&] {
    const Trial t = PersistentStudy(storage, "h").ask().front();  // a cold handle each time
    study.tell(t.id, f(t.params));
  };
  ask_tell();  // the first model ask fits: 40 complete trials
  const gpbo::EngineState fitted = state();
  ASSERT_TRUE(fitted.hyper);
  EXPECT_EQ(fitted.hyper_n, 40);
  // The refit rule (WarmModelOptions{}: 10% growth) is due at 44: asks at 41..43 condition on
  // the stored hyperparameters unchanged.
  for (int n = 41; n <= 43; ++n) {
    ask_tell();
    const gpbo::EngineState kept = state();
    EXPECT_EQ(kept.hyper_n, 40) << "at n = " << n;
    EXPECT_EQ(kept.hyper->lengthscales, fitted.hyper->lengthscales) << "at n = " << n;
    EXPECT_EQ(kept.hyper->noise, fitted.hyper->noise) << "at n = " << n;
  }
  ask_tell();
  EXPECT_EQ(state().hyper_n, 44);
}

}  // namespace

TEST(PersistentStudy, TellFollowsTheRulesOfStudy) {
  // Every pair of tell operations on a running trial gives the same outcome (state, value or
  // error type) on a Study in memory and on a stored study: one tell semantics.
  const double nan = std::nan("");
  const auto value = [](double v, bool skip) {
    return TellOp{[=](gpbo::Study& s, std::int64_t id) { return s.tell(id, v, skip); },
                  [=](PersistentStudy& s, std::int64_t id) { return s.tell(id, v, skip); }};
  };
  const auto state = [](TrialState st, bool skip) {
    return TellOp{[=](gpbo::Study& s, std::int64_t id) { return s.tell_state(id, st, skip); },
                  [=](PersistentStudy& s, std::int64_t id) { return s.tell_state(id, st, skip); }};
  };
  std::vector<TellOp> ops = {value(1.5, false),
                             value(2.5, false),
                             value(2.5, true),
                             value(nan, false),
                             value(INFINITY, true),
                             state(TrialState::kFailed, false),
                             state(TrialState::kPruned, false),
                             state(TrialState::kPruned, true),
                             state(TrialState::kRunning, false)};
  const char* names[] = {"tell 1.5", "tell 2.5", "tell 2.5 skip", "tell nan",     "tell inf skip",
                         "fail",     "prune",    "prune skip",    "state running"};
  StudyOptions o;
  o.n_initial = 1000;  // stay in the initial design: only the ledger is under test
  gpbo::Study memory(mixed_space(), o);
  PersistentStudy stored =
      PersistentStudy::create(Storage::open("memory://"), "rules", mixed_space(), o);
  std::set<std::string> seen;
  for (std::size_t a = 0; a < ops.size(); ++a) {
    for (std::size_t b = 0; b < ops.size(); ++b) {
      SCOPED_TRACE(std::string(names[a]) + " then " + names[b]);
      const std::int64_t id = memory.ask().id;
      ASSERT_EQ(stored.ask().at(0).id, id);
      for (const TellOp* op : {&ops[a], &ops[b]}) {
        const std::string m = outcome([&] { return op->in_memory(memory, id); });
        const std::string s = outcome([&] { return op->stored(stored, id); });
        EXPECT_EQ(m, s);
        seen.insert(m.substr(0, m.find(' ', 3)));
      }
      EXPECT_EQ(gpbo::to_string(memory.trial(id).state), gpbo::to_string(stored.trial(id).state));
    }
  }
  // The pairs reached every outcome: applied, repeated, refused and in conflict.
  for (const char* expected :
       {"ok complete", "ok failed", "ok pruned", "invalid_argument", "conflict"}) {
    EXPECT_EQ(seen.count(expected), 1u) << expected;
  }
}

TEST(PersistentStudy, AddTrialsImportsAHistoryInOneTransaction) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study = make_study(storage, "imported");  // n_initial = 4
  const auto point = [](double x, std::int64_t k, const char* c) {
    return gpbo::Params{{"x", x}, {"k", k}, {"c", std::string(c)}};
  };
  std::vector<Trial> history;
  for (int i = 0; i < 6; ++i) {
    Trial t;
    t.params = point(-1.5 + 0.5 * i, 1 + i % 5, i % 2 ? "a" : "b");
    t.state = TrialState::kComplete;
    t.value = objective(t.params);
    t.created_at = 1000.0 + i;
    history.push_back(t);
  }
  history[2].state = TrialState::kFailed;
  history[2].value.reset();
  // A bad trial anywhere refuses the whole call: nothing is written.
  for (const auto& spoil : std::vector<std::function<void(Trial&)>>{
           [](Trial& t) { t.value = std::nan(""); }, [](Trial& t) { t.params["x"] = 9.0; },
           [](Trial& t) { t.params.erase("k"); }, [](Trial& t) { t.state = TrialState::kRunning; },
           [](Trial& t) { t.value.reset(); }}) {
    std::vector<Trial> bad = history;
    spoil(bad[4]);
    EXPECT_THROW(study.add_trials(bad), InvalidArgument);
    EXPECT_TRUE(study.trials().empty());
  }
  const std::vector<Trial> added = study.add_trials(history);
  ASSERT_EQ(added.size(), history.size());
  const std::vector<Trial> stored = study.trials();
  ASSERT_EQ(stored.size(), history.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].id, static_cast<std::int64_t>(i));
    EXPECT_EQ(stored[i].source, "imported");
    EXPECT_EQ(stored[i].params, history[i].params);
    EXPECT_EQ(stored[i].state, history[i].state);
    EXPECT_EQ(stored[i].value, history[i].value);
    EXPECT_EQ(stored[i].created_at, history[i].created_at);
    EXPECT_GT(stored[i].finished_at, 0.0);
  }
  std::size_t imports = 0;
  for (const gpbo::LogEntry& e : study.log()) imports += e.event == "import";
  EXPECT_EQ(imports, history.size());
  // Five complete trials pass the initial design of 4: the next ask is the model's.
  const std::vector<Trial> next = study.ask();
  EXPECT_EQ(next.at(0).id, 6);
  EXPECT_EQ(next.at(0).source, "model");
  ASSERT_TRUE(study.best().has_value());
  // Its log entry says where the ask's time went (AskSplit, plus reading the data).
  const std::vector<gpbo::LogEntry> log = study.log();
  const auto ask = std::find_if(log.rbegin(), log.rend(),
                                [](const gpbo::LogEntry& e) { return e.event == "ask"; });
  ASSERT_NE(ask, log.rend());
  const nlohmann::json seconds = nlohmann::json::parse(ask->detail_json).at("model").at("seconds");
  for (const char* part : {"load", "fit", "factor", "acquisition"}) {
    ASSERT_TRUE(seconds.contains(part)) << part;
    EXPECT_GE(seconds[part].get<double>(), 0.0) << part;
  }
  EXPECT_GT(seconds["fit"].get<double>(), 0.0);  // a first model ask fits
}

// Drift (StudyOptions::drift, src/engine/drift.cpp, src/model/time_slice.cpp): the time input of
// the GP, the re-evaluations of the incumbent, the shift check, a stored study's drift state,
// and the options' bad input.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "model/time_slice.hpp"

namespace gpbo {
namespace {

Space box2() {
  Space s;
  s.add_float("x", 0.0, 1.0).add_float("y", 0.0, 1.0);
  return s;
}

/// A smooth bowl whose level jumps by `step` from trial `change` on (0: never).
double bowl(const Params& p, std::int64_t trial, std::int64_t change, double step) {
  const double x = std::get<double>(p.at("x")), y = std::get<double>(p.at("y"));
  const double f = (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6);
  return f + (change > 0 && trial >= change ? step : 0.0);
}

StudyOptions drift_options(int every) {
  StudyOptions o;
  o.seed = 7;
  o.n_initial = 6;
  o.device = Device::cpu();
  o.drift.mode = DriftMode::kAuto;
  o.drift.reevaluate_every = every;
  return o;
}

/// Runs n sequential ask/tell rounds; the objective changes level by `step` at trial `change`.
Study run(StudyOptions o, int n, std::int64_t change = 0, double step = 0.0) {
  Study study(box2(), o);
  for (int i = 0; i < n; ++i) {
    const Trial& t = study.ask();
    study.tell(t.id, bowl(t.params, t.id, change, step));
  }
  return study;
}

TEST(DriftModel, TimeInputFollowsAStepWhereAStaticGpAverages) {
  // Noisy observations at random points, the level up by 4 from the middle on: the model with
  // a time input predicts the new level now, a static one the average of both.
  const int n = 60;
  Eigen::MatrixXd X(n, 1);
  Eigen::VectorXd y(n), t(n);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = u(rng);
    t(i) = static_cast<double>(i) / n;
    y(i) = std::sin(3.0 * X(i, 0)) + (i >= n / 2 ? 4.0 : 0.0) + noise(rng);
  }
  Eigen::MatrixXd q(3, 1);
  q << 0.2, 0.5, 0.8;
  GaussianProcess timed(GpOptions{}, Device::cpu());
  timed.set_time_input(true);
  timed.fit(with_time_column(X, t), y, 1);
  const Prediction now = timed.predict(with_time_column(q, Eigen::VectorXd::Constant(3, 1.0)));
  GaussianProcess flat(GpOptions{}, Device::cpu());
  flat.fit(X, y, 1);
  const Prediction avg = flat.predict(q);
  for (int i = 0; i < 3; ++i) {
    const double truth = std::sin(3.0 * q(i, 0)) + 4.0;
    EXPECT_NEAR(now.mean(i), truth, 0.75) << i;
    EXPECT_LT(std::abs(now.mean(i) - truth), 0.3 * std::abs(avg.mean(i) - truth)) << i;
  }
  // The slice at now is the same posterior, seen over the space's own column.
  TimeSliceFactor slice(timed.factor().clone(), 1.0);
  Eigen::VectorXd m, v;
  Eigen::MatrixXd dm, dv;
  slice.predict(q, &m, &v, &dm, &dv);
  EXPECT_EQ(dm.cols(), 1);
  EXPECT_NEAR(m(1) * timed.y_scale() + timed.y_mean(), now.mean(1), 1e-9);
}

TEST(DriftModel, TimePriorPrefersAStaticFunction) {
  // Noise on a static function: the fitted time lengthscale stays long (beyond the span).
  const int n = 40;
  Eigen::MatrixXd X(n, 1);
  Eigen::VectorXd y(n), t(n);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = static_cast<double>((i * 7) % 40) / 39.0;
    t(i) = static_cast<double>(i) / n;
    y(i) = std::sin(3.0 * X(i, 0)) + noise(rng);
  }
  GaussianProcess timed(GpOptions{}, Device::cpu());
  timed.set_time_input(true);
  timed.fit(with_time_column(X, t), y, 1);
  EXPECT_GT(timed.hyperparameters().lengthscales(1), 1.0);
}

TEST(Drift, ReevaluatesTheIncumbentOnCadence) {
  const Study study = run(drift_options(5), 30);
  std::map<std::string, std::vector<Params>> seen;  // complete points so far
  int reevaluations = 0;
  for (const Trial& t : study.trials()) {
    const bool due = t.id >= study.n_initial() && (t.id + 1) % 5 == 0;
    EXPECT_EQ(t.source == "reevaluation", due) << "trial " << t.id << " " << t.source;
    if (t.source == "reevaluation") {
      ++reevaluations;
      // The configuration of an earlier trial, evaluated again.
      bool earlier = false;
      for (const Trial& e : study.trials()) earlier |= e.id < t.id && e.params == t.params;
      EXPECT_TRUE(earlier) << t.id;
    }
  }
  EXPECT_EQ(reevaluations, 5);  // ids 9, 14, 19, 24, 29
  // Drift off (the default): never.
  StudyOptions off = drift_options(5);
  off.drift.mode = DriftMode::kOff;
  for (const Trial& t : run(off, 20).trials()) EXPECT_NE(t.source, "reevaluation");
  // reevaluate_every = 0: the time input without re-evaluations.
  for (const Trial& t : run(drift_options(0), 20).trials()) EXPECT_NE(t.source, "reevaluation");
}

TEST(Drift, NeverReevaluatesARunningConfigurationAndAtMostOncePerBatch) {
  Study study(box2(), drift_options(2));
  for (int i = 0; i < 6; ++i) {
    const Trial& t = study.ask();
    study.tell(t.id, bowl(t.params, t.id, 0, 0.0));
  }
  // Batches with several due ids, nothing told in between: one re-evaluation in the first, and
  // none while that configuration runs.
  int reevaluations = 0;
  for (int b = 0; b < 3; ++b) {
    int in_batch = 0;
    for (const Trial& t : study.ask(6)) in_batch += t.source == "reevaluation";
    EXPECT_LE(in_batch, 1);
    reevaluations += in_batch;
  }
  EXPECT_EQ(reevaluations, 1);
  std::set<Params> running;
  for (const Trial& t : study.trials()) {
    if (t.state != TrialState::kRunning) continue;
    EXPECT_TRUE(running.insert(t.params).second) << "two running trials share a point";
  }
}

TEST(Drift, ShiftFiresOnAStepAndStaysQuietOnAStaticFunction) {
  const Study quiet = run(drift_options(5), 60);
  EXPECT_GE(quiet.drift_checks().size(), 8u);
  for (const DriftCheck& c : quiet.drift_checks())
    EXPECT_FALSE(c.shift) << c.trial_id << " " << c.z;

  const Study stepped = run(drift_options(5), 60, /*change=*/30, /*step=*/2.0);
  bool before = false, after = false;
  for (const DriftCheck& c : stepped.drift_checks()) {
    (c.trial_id < 30 ? before : after) |= c.shift;
    if (c.trial_id < 30) continue;
    EXPECT_EQ(stepped.trial(c.trial_id).source, "reevaluation");
  }
  EXPECT_FALSE(before);
  EXPECT_TRUE(after);
}

TEST(Drift, AStoredStudyKeepsDriftAcrossRestarts) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy::create(storage, "d", box2(), drift_options(5));
  for (int i = 0; i < 45; ++i) {
    PersistentStudy study(storage, "d");  // a new handle each round: nothing kept in memory
    const Trial t = study.ask().front();
    study.tell(t.id, bowl(t.params, t.id, 25, 2.0));
  }
  PersistentStudy study(storage, "d");
  StudyOptions o;
  PersistenceOptions p;
  study_options_from_json(study.info().options_json, &o, &p);
  EXPECT_EQ(o.drift.mode, DriftMode::kAuto);
  EXPECT_EQ(o.drift.reevaluate_every, 5);
  int reevaluations = 0;
  for (const Trial& t : study.trials()) reevaluations += t.source == "reevaluation";
  EXPECT_EQ(reevaluations, 8);  // ids 9, 14, ..., 44
  const std::vector<DriftCheck> checks = study.drift_checks();
  EXPECT_GE(checks.size(), 6u);  // the last one is judged at the next ask
  std::set<std::int64_t> judged;
  for (const DriftCheck& c : checks) EXPECT_TRUE(judged.insert(c.trial_id).second);
  std::set<std::int64_t> logged;
  for (const LogEntry& e : study.log()) {
    if (e.event == "shift") logged.insert(e.trial_id);
  }
  std::set<std::int64_t> shifts;
  for (const DriftCheck& c : checks) {
    if (c.shift) shifts.insert(c.trial_id);
  }
  EXPECT_FALSE(shifts.empty());
  EXPECT_EQ(logged, shifts);  // each shift logged once
  EXPECT_TRUE(study.verify().ok);
}

TEST(Drift, BadOptionsAreRefused) {
  StudyOptions o;
  PersistenceOptions p;
  const auto refused = [&](const std::string& text, const std::string& words) {
    try {
      study_options_from_json(text, &o, &p);
      ADD_FAILURE() << "accepted " << text;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused(R"({"drift": {"mode": "sometimes"}})", "sometimes");
  refused(R"({"drift": {"reevaluate_every": -1}})", "drift.reevaluate_every");
  refused(R"({"drift": {"shift_threshold": 0}})", "drift.shift_threshold");
  refused(R"({"drift": {"shift_threshold": "3"}})", "drift.shift_threshold");
  refused(R"({"drift": {"every": 3}})", "drift.every");
  refused(R"({"drift": "auto"})", "drift");
  refused(R"({"drift": {"mode": "auto"}, "metrics": {"objectives": [{"name": "a"}],
             "constraints": [{"metric": "c", "<=": 1}]}})",
          "drift");
  study_options_from_json(R"({"drift": {"mode": "AUTO", "reevaluate_every": 0}})", &o, &p);
  EXPECT_EQ(o.drift.mode, DriftMode::kAuto);
  EXPECT_EQ(o.drift.reevaluate_every, 0);
  // A warm start has no time on this study's clock.
  Study study(box2(), drift_options(5));
  WarmStartSource source;
  source.study = "earlier";
  source.observations.push_back({{{"x", 0.5}, {"y", 0.5}}, 1.0});
  EXPECT_THROW(study.warm_start_from({source}), InvalidArgument);
}

}  // namespace
}  // namespace gpbo

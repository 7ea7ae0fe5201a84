// The resident factor (engine/resident_factor.hpp): a study that keeps its factor between asks
// suggests what a study that factors from scratch suggests under the same hyperparameters, in
// memory (trials completing out of order) and in a store behind a warm model, after a
// background refit swapped the factor.
#include "engine/resident_factor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "engine/ask_plan.hpp"
#include "engine/stored_study.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/study.hpp"

namespace {

using gpbo::Params;
using gpbo::PersistentStudy;
using gpbo::Space;
using gpbo::Study;
using gpbo::StudyOptions;
using gpbo::Trial;
using gpbo::TrialState;

/// Suggestions of the two paths, per coordinate of the unit box: the resident factor differs
/// from a fresh one by rounding (1e-10 relative, see posterior_factor_test), which the
/// acquisition search may carry into its last digits, not further.
constexpr double kSuggestionTol = 1e-6;

constexpr int kDim = 4;

Space box() {
  Space space;
  for (int j = 0; j < kDim; ++j) space.add_float("x" + std::to_string(j), 0.0, 1.0);
  return space;
}

double objective(const Params& p) {
  double v = 0.0;
  for (int j = 0; j < kDim; ++j) {
    const double x = std::get<double>(p.at("x" + std::to_string(j)));
    v += (x - 0.3 - 0.1 * j) * (x - 0.3 - 0.1 * j);
  }
  return v + 0.05 * std::sin(12.0 * std::get<double>(p.at("x0")));
}

std::vector<Params> history(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Params> out(static_cast<std::size_t>(n));
  for (Params& p : out) {
    for (int j = 0; j < kDim; ++j) p["x" + std::to_string(j)] = u(rng);
  }
  return out;
}

void expect_same_point(const Params& a, const Params& b, const std::string& where) {
  for (int j = 0; j < kDim; ++j) {
    const std::string k = "x" + std::to_string(j);
    EXPECT_NEAR(std::get<double>(a.at(k)), std::get<double>(b.at(k)), kSuggestionTol)
        << where << ", " << k;
  }
}

TEST(ResidentFactor, StudyMatchesFreshFactorsWithTrialsOutOfOrder) {
  StudyOptions o;
  o.seed = 3;
  o.n_initial = 1;
  Study resident(box(), o), fresh(box(), o);
  for (const Params& p : history(150, 1)) {
    resident.add_trial(p, TrialState::kComplete, objective(p));
    fresh.add_trial(p, TrialState::kComplete, objective(p));
  }
  gpbo::GpHyperparameters h;
  h.lengthscales = Eigen::VectorXd::Constant(kDim, 0.4);
  h.outputscale = 1.0;
  h.noise = 1e-3;
  h.mean = 0.1;
  resident.fix_hyperparameters(h);
  fresh.fix_hyperparameters(h);
  resident.keep_resident_factor(nullptr);
  std::vector<std::int64_t> pending;  // asked, told one round later (out of order)
  for (int round = 0; round < 6; ++round) {
    const std::vector<Trial> a = resident.ask(2), b = fresh.ask(2);
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      expect_same_point(a[i].params, b[i].params, "round " + std::to_string(round));
    }
    // From the second ask on, the kept factor is extended, never refactored.
    EXPECT_EQ(resident.last_ask_split().resident, round > 0) << "round " << round;
    EXPECT_FALSE(fresh.last_ask_split().resident);
    // The second point completes now, the first a round later: the factor's rows are then out
    // of trial order and the study must match them up.
    for (std::int64_t id : pending) {
      resident.tell(id, objective(resident.trial(id).params));
      fresh.tell(id, objective(fresh.trial(id).params));
    }
    pending = {a[0].id};
    resident.tell(a[1].id, objective(a[1].params));
    fresh.tell(b[1].id, objective(b[1].params));
  }
  // The kept factor covers exactly the complete trials, whatever order they completed in.
  const std::unique_ptr<gpbo::ResidentFactor> kept = resident.take_resident_factor();
  ASSERT_NE(kept, nullptr);
  std::size_t complete = 0;
  for (const Trial& t : resident.trials()) complete += t.state == TrialState::kComplete ? 1 : 0;
  EXPECT_EQ(kept->trial_ids.size() + 2, complete);  // the last round told two after its ask
  EXPECT_EQ(kept->factor->size(), static_cast<int>(kept->trial_ids.size()));
}

TEST(ResidentFactor, KeptFactorOfOtherPointsIsNotUsed) {
  StudyOptions o;
  o.seed = 4;
  o.n_initial = 1;
  Study a(box(), o), b(box(), o);
  const std::vector<Params> ha = history(60, 2), hb = history(60, 3);
  for (int i = 0; i < 60; ++i) {
    a.add_trial(ha[i], TrialState::kComplete, objective(ha[i]));
    b.add_trial(hb[i], TrialState::kComplete, objective(hb[i]));
  }
  gpbo::GpHyperparameters h;
  h.lengthscales = Eigen::VectorXd::Constant(kDim, 0.5);
  a.fix_hyperparameters(h);
  b.fix_hyperparameters(h);
  a.keep_resident_factor(nullptr);
  a.ask(1);
  // Study a's factor, same trial ids, other points: b factors from scratch.
  b.keep_resident_factor(a.take_resident_factor());
  b.ask(1);
  EXPECT_FALSE(b.last_ask_split().resident);
  // Other hyperparameters: not used either.
  gpbo::GpHyperparameters h2 = h;
  h2.noise *= 2.0;
  b.fix_hyperparameters(h2);
  b.ask(1);
  EXPECT_FALSE(b.last_ask_split().resident);
  b.fix_hyperparameters(h2);
  b.ask(1);
  EXPECT_TRUE(b.last_ask_split().resident);
}

TEST(ResidentFactor, WarmModelAfterRefitSwapMatchesColdPlan) {
  std::shared_ptr<gpbo::Storage> storage = gpbo::Storage::open("memory://");
  StudyOptions o;
  o.seed = 5;
  o.n_initial = 1;
  PersistentStudy::create(storage, "s", box(), o);
  PersistentStudy study(storage, "s");
  std::vector<Trial> past;
  for (const Params& p : history(120, 4)) {
    Trial t;
    t.params = p;
    t.state = TrialState::kComplete;
    t.value = objective(p);
    past.push_back(t);
  }
  study.add_trials(past);
  study.keep_model_warm({0.1, 3});  // a refit every 3 trials
  auto ask_tell = [&] {
    const Trial t = study.ask(1).front();
    study.tell(t.id, objective(t.params));
    study.wait_for_refit();
  };
  for (int i = 0; i < 8; ++i) ask_tell();
  const PersistentStudy::WarmStats before = study.warm_stats();
  EXPECT_GE(before.fits, 3);  // the first ask's fit, then background refits that swapped
  EXPECT_GT(before.resident_asks, 0);

  // The data of the next ask, then the ask itself on the warm model.
  const gpbo::StudyInfo info = study.info();
  const std::vector<Trial> trials = study.trials();
  const Trial warm = study.ask(1).front();
  EXPECT_EQ(study.warm_stats().resident_asks, before.resident_asks + 1);
  const nlohmann::json logged = nlohmann::json::parse(study.log().back().detail_json);
  EXPECT_TRUE(logged.at("model").at("resident").get<bool>());
  for (const char* stage : {"load", "fit", "factor", "acquisition"}) {
    EXPECT_GE(logged.at("model").at("seconds").at(stage).get<double>(), 0.0) << stage;
  }

  // A cold plan of the same ask under the hyperparameters the warm ask used: one factorization
  // of all complete trials, no resident factor.
  const gpbo::StoredStudy stored = gpbo::StoredStudy::load(info);
  const std::optional<gpbo::GpHyperparameters> used =
      gpbo::StoredStudy::load(study.info()).state.hyper;
  ASSERT_TRUE(used.has_value());
  const gpbo::AskPlan cold = gpbo::plan_ask(stored, trials, 1, "", 0.0, nullptr, used);
  ASSERT_EQ(cold.trials.size(), 1u);
  EXPECT_FALSE(cold.split.resident);
  EXPECT_GT(cold.split.factor, 0.0);
  expect_same_point(warm.params, cold.trials[0].params, "after the refit swap");
}

}  // namespace

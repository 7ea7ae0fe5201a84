// Early stopping: the median and ASHA rules on fixed histories with hand-computed answers, the
// rules of a report (bad input refused), a pruned trial's kept value, the compute cost, and
// reports in a stored study: round trips through SQLite, a reopen, verify, the v3 upgrade.
#include "engine/pruner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/report.hpp"
#include "gpbo/study.hpp"
#include "storage/raw_sqlite.hpp"
#include "storage/temp_dir.hpp"

namespace gpbo {
namespace {

namespace fs = std::filesystem;

Space unit_space() {
  Space s;
  s.add_float("x", 0.0, 1.0);
  return s;
}

/// A study of `n` running trials (Sobol points: no model).
Study study_with(int n, PrunerOptions pruner, Direction direction = Direction::kMinimize) {
  StudyOptions o;
  o.n_initial = 50;
  o.direction = direction;
  o.pruner = pruner;
  Study s(unit_space(), o);
  s.ask(n);
  return s;
}

PrunerOptions median(int startup, int warmup = 0) {
  PrunerOptions p;
  p.rule = PrunerRule::kMedian;
  p.startup_trials = startup;
  p.warmup_steps = warmup;
  return p;
}

PrunerOptions asha(int eta, int min_resource) {
  PrunerOptions p;
  p.rule = PrunerRule::kAsha;
  p.reduction_factor = eta;
  p.min_resource = min_resource;
  return p;
}

/// Three complete trials: t0 (1: 10, 2: 8), t1 (1: 6, 2: 4), t2 (1: 8).
void complete_three(Study* s) {
  s->report(0, 1, 10.0);
  s->report(0, 2, 8.0);
  s->tell(0, 7.0);
  s->report(1, 1, 6.0);
  s->report(1, 2, 4.0);
  s->tell(1, 3.0);
  s->report(2, 1, 8.0);
  s->tell(2, 8.0);
}

TEST(MedianPruner, PrunesAboveTheMedianOfCompleteTrialsAtTheSameStep) {
  Study s = study_with(5, median(2));
  complete_three(&s);
  // Step 1: the complete trials have 10, 6, 8: median 8.
  EXPECT_TRUE(s.report(3, 1, 9.0).prune);
  EXPECT_FALSE(s.report(4, 1, 7.0).prune);
  // Step 2: 8 and 4, median 6; trial 4's best so far is 7 > 6.
  EXPECT_TRUE(s.report(4, 2, 7.5).prune);
  EXPECT_TRUE(s.should_prune(4));
  EXPECT_TRUE(s.should_prune(3));
  // At a step no complete trial reported there is nothing to compare with.
  EXPECT_FALSE(s.report(3, 5, 100.0).prune);
}

TEST(MedianPruner, TheBestValueSoFarCounts) {
  Study s = study_with(4, median(2));
  complete_three(&s);
  EXPECT_FALSE(s.report(3, 1, 5.0).prune);
  // 6.5 at step 2 is above the median 6, but the trial's best so far (5) is not.
  EXPECT_FALSE(s.report(3, 2, 6.5).prune);
}

TEST(MedianPruner, WaitsForStartupTrialsAndWarmupSteps) {
  Study startup = study_with(4, median(4));
  complete_three(&startup);
  EXPECT_FALSE(startup.report(3, 1, 100.0).prune);  // 3 complete trials < 4
  Study warmup = study_with(4, median(2, 2));
  complete_three(&warmup);
  EXPECT_FALSE(warmup.report(3, 1, 100.0).prune);  // step 1 < 2
  EXPECT_TRUE(warmup.report(3, 2, 100.0).prune);
}

TEST(MedianPruner, FollowsTheDirection) {
  Study s = study_with(6, median(2), Direction::kMaximize);
  complete_three(&s);
  EXPECT_FALSE(s.report(3, 1, 9.0).prune);  // above the median 8: good when maximizing
  EXPECT_TRUE(s.report(5, 1, 7.0).prune);
}

TEST(AshaPruner, KeepsTheTopOneOverEtaOfEachRung) {
  // eta 2, rungs at steps 1, 2, 4, 8.
  Study s = study_with(4, asha(2, 1));
  EXPECT_FALSE(s.report(0, 1, 5.0).prune);  // alone at rung 1
  EXPECT_FALSE(s.report(1, 1, 3.0).prune);  // [3, 5]: keep 1, the best
  EXPECT_TRUE(s.report(2, 1, 4.0).prune);   // [3, 4, 5]: keep 1 (3 / 2), 4 is not it
  EXPECT_FALSE(s.report(0, 2, 4.5).prune);  // alone at rung 2
  EXPECT_FALSE(s.report(1, 2, 2.0).prune);  // [2, 4.5]: the best
  EXPECT_FALSE(s.report(0, 3, 4.4).prune);  // no rung crossed: no decision
  EXPECT_FALSE(s.report(3, 1, 2.5).prune);  // [2.5, 3, 4, 5]: keep 2, threshold 3
  // A jump from step 1 to 4 crosses rungs 2 and 4; at rung 2 [2, 4.5, 10] keeps only 2.
  EXPECT_TRUE(s.report(3, 4, 10.0).prune);
  EXPECT_FALSE(s.should_prune(0));
}

TEST(AshaPruner, FollowsTheDirectionAndMinResource) {
  Study s = study_with(3, asha(2, 1), Direction::kMaximize);
  EXPECT_FALSE(s.report(0, 1, 5.0).prune);
  EXPECT_TRUE(s.report(1, 1, 3.0).prune);  // [5, 3]: keep 1, the largest
  Study later = study_with(3, asha(3, 4));
  EXPECT_FALSE(later.report(0, 1, 5.0).prune);  // below the first rung (4)
  EXPECT_FALSE(later.report(1, 1, 9.0).prune);
  EXPECT_FALSE(later.report(0, 4, 5.0).prune);
  EXPECT_TRUE(later.report(1, 4, 9.0).prune);  // [5, 9] at rung 4: keep 1
}

TEST(Pruner, NoneNeverPrunesButKeepsTheValues) {
  PrunerOptions none;
  none.rule = PrunerRule::kNone;
  Study s = study_with(4, none);
  complete_three(&s);
  const PruneAnswer a = s.report(3, 1, 1e9);
  EXPECT_FALSE(a.prune);
  ASSERT_EQ(a.trial.intermediate.size(), 1u);
  EXPECT_EQ(a.trial.intermediate[0], (IntermediateValue{1, 1e9}));
}

TEST(PruneReport, RefusesBadInputWithClearErrors) {
  Study s = study_with(2, median(0));
  s.report(0, 3, 1.0);
  // Steps strictly increase; the same step with another value is refused too.
  EXPECT_THROW(s.report(0, 2, 1.0), InvalidArgument);
  EXPECT_THROW(s.report(0, 3, 2.0), InvalidArgument);
  try {
    s.report(0, 1, 0.5);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("strictly increase"), std::string::npos) << e.what();
  }
  // A repeat of the last report is a no-op.
  EXPECT_EQ(s.report(0, 3, 1.0).trial.intermediate.size(), 1u);
  EXPECT_THROW(s.report(0, 4, std::nan("")), InvalidArgument);
  EXPECT_THROW(s.report(0, 4, std::numeric_limits<double>::infinity()), InvalidArgument);
  EXPECT_THROW(s.report(0, -1, 1.0), InvalidArgument);
  EXPECT_THROW(s.report(7, 1, 1.0), NotFound);
  s.tell(1, 2.0);
  EXPECT_THROW(s.report(1, 1, 1.0), Conflict);
  EXPECT_EQ(s.trial(0).intermediate.size(), 1u);  // nothing changed by the refusals

  StudyOptions two;
  two.metrics.objectives = {{"a", Direction::kMinimize}, {"b", Direction::kMinimize}};
  Study multi(unit_space(), two);
  multi.ask(1);
  EXPECT_THROW(multi.report(0, 1, 1.0), InvalidArgument);
}

TEST(PruneReport, APrunedTrialKeepsItsLastValueForTheModel) {
  Study s = study_with(3, median(0));
  s.report(0, 1, 4.0);
  s.report(0, 2, 3.5);
  const Trial pruned = s.tell_state(0, TrialState::kPruned);
  ASSERT_TRUE(pruned.value);
  EXPECT_EQ(*pruned.value, 3.5);
  EXPECT_TRUE(models_value(pruned));
  EXPECT_FALSE(s.tell_state(1, TrialState::kPruned).value);  // nothing reported: no value
  EXPECT_FALSE(models_value(s.trial(1)));
  // The best trial stays a complete one; a pruned trial is modelled, not chosen.
  EXPECT_FALSE(s.best());
  s.tell(2, 9.0);
  EXPECT_EQ(s.best()->id, 2);
  // The model fits on the complete trial and the pruned one.
  EXPECT_TRUE(s.fit_hyperparameters());
}

TEST(StudyCost, SumsTrialSecondsAndSteps) {
  std::vector<Trial> t(4);
  t[0].state = TrialState::kComplete;
  t[0].created_at = 100.0;
  t[0].finished_at = 130.0;
  t[0].intermediate = {{1, 1.0}, {9, 0.5}};
  t[1].state = TrialState::kPruned;
  t[1].created_at = 110.0;
  t[1].finished_at = 115.0;
  t[1].intermediate = {{1, 2.0}, {3, 1.5}};
  t[2].state = TrialState::kRunning;
  t[2].created_at = 150.0;
  t[3].state = TrialState::kFailed;  // no times: nothing
  const StudyCost c = study_cost(t, 160.0);
  EXPECT_EQ(c.trials, 4);
  EXPECT_EQ(c.complete, 1);
  EXPECT_EQ(c.pruned, 1);
  EXPECT_EQ(c.running, 1);
  EXPECT_EQ(c.failed, 1);
  EXPECT_DOUBLE_EQ(c.trial_seconds, 30.0 + 5.0 + 10.0);
  EXPECT_EQ(c.reporting, 2);
  EXPECT_EQ(c.steps, 12);
  EXPECT_EQ(c.steps_full, 18);
}

// ---------------------------------------------------------------- stored studies

class StoredReports : public ::testing::Test {
 protected:
  fs::path file() const { return dir_.path() / "study.db"; }
  std::shared_ptr<Storage> open() { return Storage::open("sqlite://" + file().string()); }
  TempDir dir_{"gpbo-prune"};
};

TEST_F(StoredReports, RoundTripSurviveAReopenAndVerify) {
  StudyOptions o;
  o.n_initial = 10;
  o.pruner = median(1);
  {
    PersistentStudy s = PersistentStudy::create(open(), "p", unit_space(), o);
    s.ask(1, "w0");
    s.ask(1, "w1");
    EXPECT_FALSE(s.report(0, 1, 1.0).prune);
    EXPECT_FALSE(s.report(0, 2, 0.5).prune);
    s.tell(0, 0.4);
    // Worse than the one complete trial's 1.0 at step 1.
    EXPECT_TRUE(s.report(1, 1, 2.0).prune);
  }
  PersistentStudy s(open(), "p");
  // Read back after a reopen.
  const Trial t0 = s.trial(0);
  ASSERT_EQ(t0.intermediate.size(), 2u);
  EXPECT_EQ(t0.intermediate[1], (IntermediateValue{2, 0.5}));
  EXPECT_TRUE(s.should_prune(1));
  // Bad input is refused and writes nothing.
  const std::size_t entries = s.log().size();
  EXPECT_THROW(s.report(1, 1, 3.0), InvalidArgument);
  EXPECT_THROW(s.report(1, 2, std::nan("")), InvalidArgument);
  EXPECT_THROW(s.report(0, 3, 1.0), Conflict);
  EXPECT_THROW(s.report(5, 1, 1.0), NotFound);
  EXPECT_EQ(s.log().size(), entries);
  // A repeat writes nothing either; a pruned trial keeps its last value, logged for verify.
  s.report(1, 1, 2.0);
  EXPECT_EQ(s.log().size(), entries);
  EXPECT_EQ(*s.tell_state(1, TrialState::kPruned).value, 2.0);
  VerifyReport r = s.verify();
  EXPECT_TRUE(r.ok) << r.message;
  const StudyCost cost = s.cost();
  EXPECT_EQ(cost.steps, 3);
  EXPECT_EQ(cost.steps_full, 4);
  EXPECT_EQ(cost.pruned, 1);
  // The report says how many steps the reporting trials ran.
  EXPECT_NE(render_report(s).find("2 trials reported intermediate values and ran 3 of the 4 "
                                  "steps they would have run to the end (75%); 1 was stopped"),
            std::string::npos);
  // An edited intermediate value is found.
  raw_sql(file(), "UPDATE trials SET intermediate_json = '[[1,1.0],[2,0.25]]' WHERE number = 0");
  r = s.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.trial_id, 0);
  EXPECT_EQ(r.field, "intermediate");
}

TEST_F(StoredReports, AVersionThreeFileIsUpgradedAndTakesReports) {
  // tests/storage/fixtures/schema_v3.db: written by gpbo at schema 3 through the CLI: "old"
  // (trial 0 told 0.25, trial 1 pruned, trial 2 told -0.5, trial 3 running).
  fs::copy_file(fs::path(GPBO_SOURCE_DIR) / "tests/storage/fixtures/schema_v3.db", file());
  ASSERT_EQ(raw_sql(file(), "SELECT version FROM schema_version"), "3");
  std::shared_ptr<Storage> store = open();
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"), "4");
  PersistentStudy s(store, "old");
  VerifyReport r = s.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.trials, 4);
  EXPECT_FALSE(s.trial(1).value);  // pruned before reports existed: no value
  s.report(3, 1, 0.75);
  EXPECT_EQ(s.trial(3).intermediate.size(), 1u);
  r = s.verify();
  EXPECT_TRUE(r.ok) << r.message;
  // Opening again changes nothing.
  EXPECT_EQ(PersistentStudy(open(), "old").verify().head, r.head);
}

}  // namespace
}  // namespace gpbo

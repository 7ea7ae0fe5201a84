// The metrics of a study: their JSON form, the CLI's forms, the checks and feasibility.
#include "codec/metrics_json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "gpbo/error.hpp"
#include "gpbo/metrics.hpp"

namespace gpbo {
namespace {

using nlohmann::json;

Metrics accuracy_latency() {
  Metrics m;
  m.objectives = {{"acc", Direction::kMaximize, std::nullopt},
                  {"latency_ms", Direction::kMinimize, 100.0}};
  m.constraints = {{"latency_ms", Bound::kAtMost, 20.0}, {"memory_gb", Bound::kAtMost, 16.0}};
  return m;
}

TEST(Metrics, JsonRoundTripAndTheEmptyForm) {
  const Metrics m = accuracy_latency();
  const json j = metrics_to_json_value(m);
  EXPECT_EQ(j, json::parse(R"({"objectives": [{"name": "acc", "direction": "maximize"},
                                              {"name": "latency_ms", "direction": "minimize",
                                               "reference": 100.0}],
                               "constraints": [{"metric": "latency_ms", "<=": 20.0},
                                               {"metric": "memory_gb", "<=": 16.0}]})"));
  EXPECT_EQ(metrics_from_json(metrics_to_json(m)), m);
  EXPECT_EQ(metrics_to_json(Metrics{}), "{}");
  EXPECT_TRUE(metrics_from_json("{}").empty());
  EXPECT_EQ(m.names(), (std::vector<std::string>{"acc", "latency_ms", "memory_gb"}));
  EXPECT_TRUE(m.multi_objective());
}

TEST(Metrics, MalformedFormsAreRefused) {
  for (const char* bad :
       {"[]", R"({"objective": []})", R"({"objectives": {}})",
        R"({"objectives": [{"direction": "minimize"}]})", R"({"objectives": [{"name": ""}]})",
        R"({"objectives": [{"name": "a"}, {"name": "a"}]})",
        R"({"objectives": [{"name": "a", "direction": "up"}]})",
        R"({"objectives": [{"name": "a", "weight": 2}]})",
        R"({"constraints": [{"metric": "a", "<=": 1}]})",  // no objective
        R"({"objectives": [{"name": "a"}], "constraints": [{"metric": "b", "<": 1}]})",
        R"({"objectives": [{"name": "a"}], "constraints": [{"metric": "b", "<=": "1"}]})",
        R"({"objectives": [{"name": "a"}], "constraints": [{"metric": "b"}]})",
        R"({"objectives": [{"name": "a"}], "constraints": [{"metric": "", "<=": 1}]})",
        R"({"objectives": [{"name": "a"}], "constraints": [{"metric": "b", "<=": 1, ">=": 0}]})",
        "{"}) {
    EXPECT_THROW(metrics_from_json(bad), InvalidArgument) << bad;
  }
}

TEST(Metrics, CliForms) {
  EXPECT_EQ(parse_objective("acc:maximize").direction, Direction::kMaximize);
  EXPECT_EQ(parse_objective("acc:max").name, "acc");
  EXPECT_EQ(parse_objective("loss").direction, Direction::kMinimize);
  EXPECT_EQ(parse_objective("a:b:min").name, "a:b");  // the last colon separates
  EXPECT_THROW(parse_objective(":max"), InvalidArgument);
  EXPECT_THROW(parse_objective("acc:upwards"), InvalidArgument);
  const OutcomeConstraint c = parse_constraint(" latency_ms <= 20.5 ");
  EXPECT_EQ(c.metric, "latency_ms");
  EXPECT_EQ(c.side, Bound::kAtMost);
  EXPECT_EQ(c.bound, 20.5);
  EXPECT_EQ(parse_constraint("acc>=-1e-3").side, Bound::kAtLeast);
  for (const char* bad :
       {"latency_ms<20", "<=3", "x<=", "x<=nan", "x<=inf", "x<=1e999", "x<=3abc", "x<=0x10"}) {
    EXPECT_THROW(parse_constraint(bad), InvalidArgument) << bad;
  }
}

TEST(Metrics, ValuesAndFeasibility) {
  const Metrics m = accuracy_latency();
  EXPECT_TRUE(feasible(m, {{"acc", 0.9}, {"latency_ms", 20.0}, {"memory_gb", 3.0}}));
  EXPECT_FALSE(feasible(m, {{"acc", 0.9}, {"latency_ms", 20.5}, {"memory_gb", 3.0}}));
  EXPECT_FALSE(feasible(m, {{"acc", 0.9}, {"latency_ms", 2.0}}));  // a metric is missing
  EXPECT_TRUE(feasible(Metrics{}, {}));
  EXPECT_EQ(metric_values_from_json(json::parse(R"({"acc": 0.5, "n": 3})")),
            (MetricValues{{"acc", 0.5}, {"n", 3.0}}));
  EXPECT_THROW(metric_values_from_json(json::parse(R"({"acc": null})")), InvalidArgument);
  EXPECT_THROW(metric_values_from_json(json::parse(R"({"acc": "0.5"})")), InvalidArgument);
  EXPECT_THROW(metric_values_from_json(json::parse("[0.5]")), InvalidArgument);
  EXPECT_EQ(metric_values_to_json({{"acc", 0.5}}), json::parse(R"({"acc": 0.5})"));
}

TEST(Metrics, TheStatedReferenceOfAnObjective) {
  Metrics m = accuracy_latency();
  EXPECT_EQ(reference_of(m, 1), 100.0);  // given: kept, though a constraint bounds latency
  m.objectives[1].reference.reset();
  EXPECT_EQ(reference_of(m, 1), 20.0);  // the constraint that bounds its worse side
  m.constraints.push_back({"latency_ms", Bound::kAtMost, 15.0});
  m.constraints.push_back({"latency_ms", Bound::kAtLeast, 1.0});  // its better side: no bound
  EXPECT_EQ(reference_of(m, 1), 15.0);                             // the tightest
  EXPECT_EQ(reference_of(m, 0), std::nullopt);  // acc: no reference, no constraint
  m.constraints.push_back({"acc", Bound::kAtMost, 0.99});  // the better side of a maximum
  EXPECT_EQ(reference_of(m, 0), std::nullopt);
  m.constraints.push_back({"acc", Bound::kAtLeast, 0.8});
  m.constraints.push_back({"acc", Bound::kAtLeast, 0.85});
  EXPECT_EQ(reference_of(m, 0), 0.85);
  EXPECT_THROW(reference_of(m, 2), std::out_of_range);
}

}  // namespace
}  // namespace gpbo

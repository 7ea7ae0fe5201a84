// Tests of a space's restrictions (src/space/linear_constraints.cpp): linear constraints and
// fixed values, their validation, their JSON form, and snap(), which admits only points that
// carry the fixed values and meet the constraints.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "gpbo/error.hpp"
#include "gpbo/space.hpp"

namespace gpbo {
namespace {

double value_of(const ParamValue& v) {
  return std::holds_alternative<double>(v) ? std::get<double>(v)
                                           : static_cast<double>(std::get<std::int64_t>(v));
}

// The left-hand side of c at p, summed in the terms' name order (as the space does).
double lhs(const LinearConstraint& c, const Params& p) {
  double s = 0.0;
  for (const auto& [name, coef] : c.terms) s += coef * value_of(p.at(name));
  return s;
}

bool meets(const Space& space, const Params& p) {
  for (const LinearConstraint& c : space.constraints()) {
    if (c.greater ? !(lhs(c, p) >= c.bound) : !(lhs(c, p) <= c.bound)) return false;
  }
  return true;
}

std::string error_of(const std::string& json) {
  try {
    Space::from_json(json);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kParams =
    R"("params": [{"name": "a", "type": "float", "low": 0, "high": 1},
                  {"name": "b", "type": "float", "low": 0, "high": 1},
                  {"name": "n", "type": "int", "low": 0, "high": 10},
                  {"name": "g", "type": "float", "low": 0, "high": 1, "step": 0.25},
                  {"name": "lr", "type": "float", "low": 1e-4, "high": 1, "log": true},
                  {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}])";

std::string space_with(const std::string& rest) { return std::string("{") + kParams + rest + "}"; }

TEST(LinearConstraints, JsonFormRoundTripsAndTodaysFormIsUnchanged) {
  const Space s = Space::from_json(space_with(
      R"(, "constraints": [{"terms": {"a": 1, "b": 1}, "<=": 1},
                           {"terms": {"n": 1, "g": -2}, ">=": 1}],
           "fixed": {"opt": "adam", "n": 4})"));
  ASSERT_EQ(s.constraints().size(), 2u);
  EXPECT_TRUE(s.constraints()[1].greater);
  EXPECT_EQ(s.constraints()[1].terms.at("g"), -2.0);
  EXPECT_EQ(s.fixed().at("n"), ParamValue(std::int64_t{4}));
  const Space back = Space::from_json(s.to_json());
  EXPECT_TRUE(back == s);
  EXPECT_EQ(back.to_json(), s.to_json());
  // Constraints and fixed values take part in equality.
  EXPECT_FALSE(back == Space::from_json(space_with("")));
  // A space without them is written exactly as before: no new keys.
  const std::string plain = Space::from_json(space_with("")).to_json();
  EXPECT_EQ(plain.find("constraints"), std::string::npos);
  EXPECT_EQ(plain.find("fixed"), std::string::npos);
}

TEST(LinearConstraints, MalformedConstraintsAreRefusedWithClearErrors) {
  const struct {
    const char* rest;
    const char* message;
  } cases[] = {
      {R"(, "constraints": {"terms": {"a": 1}, "<=": 1})", "\"constraints\" must be an array"},
      {R"(, "constraints": [3])", "constraints[0] is not an object"},
      {R"(, "constraints": [{"<=": 1}])", "missing \"terms\""},
      {R"(, "constraints": [{"terms": {}, "<=": 1}])", "non-empty object"},
      {R"(, "constraints": [{"terms": {"a": 1}}])", "missing \"<=\" or \">=\""},
      {R"(, "constraints": [{"terms": {"a": 1}, "<=": 1, ">=": 0}])", "exactly one of"},
      {R"(, "constraints": [{"terms": {"a": 1}, "<": 1}])", "unknown key \"<\""},
      {R"(, "constraints": [{"terms": {"a": "1"}, "<=": 1}])", "coefficient of 'a' must be a"},
      {R"(, "constraints": [{"terms": {"a": 1}, "<=": "1"}])", "\"<=\" must be a number"},
      {R"(, "constraints": [{"terms": {"zz": 1}, "<=": 1}])", "'zz' is not in the space"},
      {R"(, "constraints": [{"terms": {"opt": 1}, "<=": 1}])", "'opt' is categorical"},
      {R"(, "constraints": [{"terms": {"lr": 1}, "<=": 1}])", "'lr' has a log scale"},
      {R"(, "constraints": [{"terms": {"a": 0}, "<=": 1}])", "finite non-zero"},
      // Each constraint alone: the best corner decides exactly.
      {R"(, "constraints": [{"terms": {"a": 1, "b": 1}, "<=": -0.5}])",
       "constraints[0] cannot be met within the parameters' bounds"},
      {R"(, "constraints": [{"terms": {"a": 1, "n": 1}, ">=": 11.5}])",
       "constraints[0] cannot be met"},
      // Together: a + b <= 0.5 and a + b >= 1.5 are each possible, not both.
      {R"(, "constraints": [{"terms": {"a": 1, "b": 1}, "<=": 0.5},
                            {"terms": {"a": 1, "b": 1}, ">=": 1.5}])",
       "no point found that meets every constraint"},
      {R"(, "fixed": [1])", "\"fixed\" must be an object"},
      {R"(, "fixed": {"zz": 1})", "unknown parameter 'zz'"},
      {R"(, "fixed": {"a": 2})", "parameter 'a': value 2 is outside [0, 1]"},
      {R"(, "fixed": {"g": 0.3})", "is not on its grid"},
      {R"(, "fixed": {"n": 2.5})", "parameter 'n'"},
      {R"(, "fixed": {"opt": "rmsprop"})", "'rmsprop' is not one of its choices"},
      {R"(, "fixed": {"opt": 1})", "parameter 'opt'"},
      {R"(, "constraints": [{"terms": {"a": 1, "b": 1}, "<=": 1}], "fixed": {"a": 1, "b": 0.5})",
       "constraints[0] cannot be met within the parameters' bounds with the fixed values"},
      {R"(, "other": 1)", "unknown key \"other\""},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(space_with(c.rest));
    EXPECT_NE(message.find(c.message), std::string::npos)
        << c.rest << "\n  gave: " << message << "\n  expected: " << c.message;
  }
}

TEST(LinearConstraints, AddConstraintRefusesBadInputAndLeavesTheSpaceUnchanged) {
  Space s;
  s.add_float("a", 0, 1).add_float("b", 0, 1);
  EXPECT_THROW(s.add_constraint({{}, 1.0, false}), InvalidArgument);
  EXPECT_THROW(s.add_constraint({{{"a", 1.0}}, std::nan(""), false}), InvalidArgument);
  EXPECT_THROW(s.add_constraint({{{"a", std::numeric_limits<double>::infinity()}}, 1.0, false}),
               InvalidArgument);
  EXPECT_THROW(s.add_constraint({{{"a", 1.0}, {"b", 1.0}}, 3.0, true}), InvalidArgument);
  EXPECT_TRUE(s.constraints().empty());
  s.add_constraint({{{"a", 1.0}, {"b", 1.0}}, 1.0, false});
  EXPECT_EQ(s.constraints().size(), 1u);
  // Parameters come first: their encoding must not move under the restrictions.
  EXPECT_THROW(s.add_float("c", 0, 1), InvalidArgument);
}

TEST(LinearConstraints, SnapAdmitsEveryPointExactly) {
  const Space s = Space::from_json(space_with(
      R"(, "constraints": [{"terms": {"a": 1, "b": 1, "g": 1}, "<=": 1},
                           {"terms": {"n": 1, "a": -4}, ">=": 1},
                           {"terms": {"b": 3, "n": 0.5}, "<=": 3.2}])"));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unif;
  int moved = 0;
  for (int i = 0; i < 2000; ++i) {
    Eigen::VectorXd u(s.encoded_dim());
    for (Eigen::Index j = 0; j < u.size(); ++j) u[j] = unif(rng);
    const Eigen::VectorXd before = u;
    s.snap(u);
    moved += (u - before).norm() > 0.3;
    ASSERT_TRUE(s.admits(u));
    const Params p = s.decode(u);
    ASSERT_TRUE(meets(s, p)) << "a=" << value_of(p.at("a")) << " b=" << value_of(p.at("b"));
    EXPECT_NO_THROW(s.check_constraints(p));
    // snap is idempotent.
    Eigen::VectorXd again = u;
    s.snap(again);
    EXPECT_EQ(again, u);
  }
  EXPECT_GT(moved, 100);  // most random points violate something, and were moved
}

TEST(LinearConstraints, PullTowardKeepsTheAdmittedEndOfTheSegment) {
  Space s;
  s.add_float("a", 0, 1).add_float("b", 0, 1);
  s.add_constraint({{{"a", 1.0}, {"b", 1.0}}, 1.0, false});
  Eigen::VectorXd u(2), from(2);
  u << 1.0, 1.0;
  from << 0.0, 0.0;
  s.pull_toward(u, from);
  EXPECT_TRUE(s.admits(u));
  EXPECT_NEAR(u[0], 0.5, 1e-9);  // the boundary of the diagonal
  EXPECT_NEAR(u[1], 0.5, 1e-9);
  Eigen::VectorXd inside(2);
  inside << 0.1, 0.2;
  const Eigen::VectorXd copy = inside;
  s.pull_toward(inside, from);
  EXPECT_EQ(inside, copy);  // admitted points stay
}

TEST(LinearConstraints, CheckConstraintsRefusesAUserPointOutside) {
  Space s;
  s.add_float("a", 0, 1).add_int("n", 0, 10);
  s.add_constraint({{{"a", 1.0}, {"n", 1.0}}, 5.0, false});
  EXPECT_NO_THROW(s.check_constraints({{"a", 1.0}, {"n", std::int64_t{4}}}));
  try {
    s.check_constraints({{"a", 0.5}, {"n", std::int64_t{5}}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("violates constraints[0]"), std::string::npos) << e.what();
  }
}

TEST(FixedValues, WithFixedPinsEverySnappedPointAndMergesOverTheSpace) {
  const Space base = Space::from_json(space_with(R"(, "fixed": {"opt": "adam"})"));
  const Space s = base.with_fixed({{"n", 7.0}, {"g", 0.75}, {"lr", 0.001}});
  EXPECT_EQ(s.fixed().size(), 4u);
  EXPECT_EQ(s.fixed().at("n"), ParamValue(std::int64_t{7}));  // canonical type
  const Space over = s.with_fixed({{"opt", std::string("sgd")}});
  EXPECT_EQ(over.fixed().at("opt"), ParamValue(std::string("sgd")));  // per-ask values win
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unif;
  for (int i = 0; i < 200; ++i) {
    Eigen::VectorXd u(s.encoded_dim());
    for (Eigen::Index j = 0; j < u.size(); ++j) u[j] = unif(rng);
    s.snap(u);
    ASSERT_TRUE(s.admits(u));
    const Params p = s.decode(u);
    EXPECT_EQ(p.at("opt"), ParamValue(std::string("adam")));
    EXPECT_EQ(p.at("n"), ParamValue(std::int64_t{7}));
    EXPECT_EQ(p.at("g"), ParamValue(0.75));
    EXPECT_EQ(p.at("lr"), ParamValue(0.001));
  }
  // The fixed mask covers the fixed parameters' encoded dimensions only (opt: two one-hot).
  int pinned = 0;
  for (bool b : s.fixed_mask()) pinned += b;
  EXPECT_EQ(pinned, 5);
  EXPECT_THROW(base.with_fixed({{"nope", 1.0}}), InvalidArgument);
  EXPECT_THROW(base.with_fixed({{"a", std::string("x")}}), InvalidArgument);
  EXPECT_THROW(base.with_fixed({{"n", 11.0}}), InvalidArgument);
}

TEST(FixedValues, FixedValuesInsideAConstraintNarrowTheOthers) {
  Space s;
  s.add_float("a", 0, 1).add_float("b", 0, 1).add_float("c", 0, 1);
  s.add_constraint({{{"a", 1.0}, {"b", 1.0}, {"c", 1.0}}, 1.0, false});
  const Space f = s.with_fixed({{"a", 0.9}});
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unif;
  for (int i = 0; i < 500; ++i) {
    Eigen::VectorXd u(3);
    for (Eigen::Index j = 0; j < 3; ++j) u[j] = unif(rng);
    f.snap(u);
    Params p = f.decode(u);
    p["a"] = 0.9;  // the study writes the fixed value itself
    ASSERT_LE(value_of(p.at("a")) + value_of(p.at("b")) + value_of(p.at("c")), 1.0);
  }
  EXPECT_THROW(s.with_fixed({{"a", 1.0}, {"b", 0.5}}), InvalidArgument);
}

}  // namespace
}  // namespace gpbo

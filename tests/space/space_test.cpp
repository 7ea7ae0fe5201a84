/// Tests for gpbo::Space: validation, the JSON form, and the unit-cube encoding.
#include "gpbo/space.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Runs `f`, expects InvalidArgument and returns its message ("" if nothing was thrown).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected InvalidArgument";
  return "";
}

// lr (float, log), layers (int), opt (categorical, 3), depth (int, log), drop (float), act (2).
Space mixed_space() {
  Space s;
  s.add_float("lr", 1e-5, 0.1, true)
      .add_int("layers", 1, 8)
      .add_categorical("opt", {"adam", "sgd", "rmsprop"})
      .add_int("depth", 1, 64, true)
      .add_float("drop", -0.5, 0.75)
      .add_categorical("act", {"relu", "tanh"});
  return s;
}

Params mixed_point() {
  return {{"lr", 0.003},
          {"layers", std::int64_t{4}},
          {"opt", std::string("sgd")},
          {"depth", std::int64_t{17}},
          {"drop", 0.25},
          {"act", std::string("tanh")}};
}

// Ints and strings must match exactly, doubles within a relative 1e-12.
void expect_same_point(const Params& got, const Params& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, value] : want) {
    const ParamValue& g = got.at(name);
    ASSERT_EQ(g.index(), value.index()) << name;
    if (const auto* d = std::get_if<double>(&value))
      EXPECT_NEAR(std::get<double>(g), *d, 1e-12 * std::abs(*d)) << name;
    else
      EXPECT_EQ(g, value) << name;
  }
}

TEST(SpaceAdd, RejectsBadFloats) {
  Space s;
  s.add_float("x", 0, 1);
  EXPECT_THROW(Space().add_float("", 0, 1), InvalidArgument);
  EXPECT_THROW(s.add_float("x", 0, 2), InvalidArgument);
  EXPECT_THROW(Space().add_float("a", kNaN, 1), InvalidArgument);
  EXPECT_THROW(Space().add_float("a", 0, kInf), InvalidArgument);
  EXPECT_THROW(Space().add_float("a", -kInf, 0), InvalidArgument);
  EXPECT_THROW(Space().add_float("a", 1, 1), InvalidArgument);
  EXPECT_THROW(Space().add_float("a", 2, 1), InvalidArgument);
  EXPECT_THROW(Space().add_float("a", -1e308, 1e308), InvalidArgument);  // range overflows
  EXPECT_THROW(Space().add_float("a", -1, 1, true), InvalidArgument);
  const std::string msg = error_of([] { Space().add_float("lr", 0, 1, true); });
  EXPECT_NE(msg.find("'lr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("low > 0"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { s.add_float("x", 0, 2); }).find("'x'"), std::string::npos);
}

TEST(SpaceAdd, RejectsBadInts) {
  EXPECT_THROW(Space().add_int("n", 3, 3), InvalidArgument);
  EXPECT_THROW(Space().add_int("n", 4, 3), InvalidArgument);
  EXPECT_THROW(Space().add_int("n", 0, 10, true), InvalidArgument);
  EXPECT_THROW(Space().add_int("n", -5, 10, true), InvalidArgument);
  EXPECT_THROW(Space().add_int("n", 0, std::int64_t{1} << 60), InvalidArgument);
  const std::string msg = error_of([] { Space().add_int("layers", 0, 8, true); });
  EXPECT_NE(msg.find("'layers'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(">= 1"), std::string::npos) << msg;
  EXPECT_NO_THROW(Space().add_int("n", 1, 2, true));
}

TEST(SpaceAdd, RejectsBadCategoricals) {
  EXPECT_THROW(Space().add_categorical("c", {}), InvalidArgument);
  EXPECT_THROW(Space().add_categorical("c", {"a", "b", "a"}), InvalidArgument);
  EXPECT_THROW(Space().add_categorical("c", {"a", ""}), InvalidArgument);
  EXPECT_THROW(Space().add_categorical("", {"a"}), InvalidArgument);
  EXPECT_NE(error_of([] {
              Space().add_categorical("opt", {"a", "a"});
            }).find("'opt'"),
            std::string::npos);
  EXPECT_NO_THROW(Space().add_categorical("c", {"only"}));
}

TEST(SpaceAdd, FailedAddLeavesSpaceUnchanged) {
  Space s = mixed_space();
  const Space before = s;
  EXPECT_THROW(s.add_categorical("c", {"a", "a"}), InvalidArgument);
  EXPECT_THROW(s.add_int("lr", 1, 2), InvalidArgument);
  EXPECT_EQ(s, before);
  EXPECT_EQ(s.encoded_dim(), before.encoded_dim());
  EXPECT_EQ(s.discrete_mask(), before.discrete_mask());
}

TEST(SpaceJson, RoundTrips) {
  const Space s = mixed_space();
  const std::string text = s.to_json();
  EXPECT_EQ(Space::from_json(text), s);
  EXPECT_EQ(Space::from_json(text).to_json(), text);

  const auto doc = nlohmann::json::parse(text);
  ASSERT_EQ(doc.at("params").size(), s.size());
  const auto& layers = doc["params"][1];
  EXPECT_TRUE(layers["low"].is_number_integer());
  EXPECT_TRUE(layers["high"].is_number_integer());
  EXPECT_EQ(layers["log"], false);  // written even when false
  EXPECT_EQ(doc["params"][0]["log"], true);
  EXPECT_FALSE(doc["params"][2].contains("log"));
}

TEST(SpaceJson, ParsesDocumentedFormAndBareArray) {
  const Space a = Space::from_json(R"({"params": [
      {"name": "lr", "type": "float", "low": 1e-5, "high": 0.1, "log": true},
      {"name": "layers", "type": "int", "low": 1, "high": 8},
      {"name": "opt", "type": "categorical", "choices": ["adam", "sgd"]}]})");
  Space expected;
  expected.add_float("lr", 1e-5, 0.1, true)
      .add_int("layers", 1, 8)
      .add_categorical("opt", {"adam", "sgd"});
  EXPECT_EQ(a, expected);
  EXPECT_FALSE(a.params()[1].log);  // "log" defaults to false
  const Space b = Space::from_json(
      R"([{"name": "x", "type": "float", "low": 0, "high": 2},
          {"name": "n", "type": "int", "low": 2.0, "high": 1e2, "log": true}])");
  Space expected_b;
  expected_b.add_float("x", 0, 2).add_int("n", 2, 100, true);
  EXPECT_EQ(b, expected_b);
}

TEST(SpaceJson, RejectsMalformedInput) {
  const auto bad = [](const std::string& text) {
    EXPECT_THROW(Space::from_json(text), InvalidArgument) << text;
  };
  const std::string f = R"("name": "x", "type": "float")";
  bad("{\"params\": [");     // not JSON
  bad("{}");                 // missing params
  bad(R"({"params": {}})");  // params not an array
  bad(R"({"params": []})");  // empty space
  bad("[]");                 // empty space (bare array)
  bad("42");                 // neither object nor array
  bad(R"({"params": [{)" + f + R"(, "low": 0, "high": 1}], "extra": 1})");  // unknown top key
  bad(R"([3])");                                                            // param not an object
  bad(R"([{"type": "float", "low": 0, "high": 1}])");                       // missing name
  bad(R"([{"name": 7, "type": "float", "low": 0, "high": 1}])");            // non-string name
  bad(R"([{"name": "x", "low": 0, "high": 1}])");                           // missing type
  bad(R"([{"name": "x", "type": "double", "low": 0, "high": 1}])");         // unknown type
  bad("[{" + f + R"(, "high": 1}])");                                       // missing low
  bad("[{" + f + R"(, "low": 0}])");                                        // missing high
  bad("[{" + f + R"(, "low": "0", "high": 1}])");                           // non-numeric low
  bad("[{" + f + R"(, "low": 0, "high": null}])");                          // non-numeric high
  bad("[{" + f + R"(, "low": 0, "high": 1, "log": "yes"}])");               // non-boolean log
  bad("[{" + f + R"(, "low": 0, "high": 1, "choices": ["a"]}])");           // choices on a float
  bad("[{" + f + R"(, "low": 1, "high": 0}])");                             // low > high
  bad("[{" + f + R"(, "low": 0, "high": 1, "log": true}])");                // log with low = 0
  bad(R"([{"name": "n", "type": "int", "low": 0.5, "high": 4}])");  // non-integral int bound
  bad(R"([{"name": "n", "type": "int", "low": 0, "high": 9007199254740993}])");  // > 2^53
  bad(R"([{"name": "n", "type": "int", "low": 0, "high": 1e300}])");      // int bound too large
  bad(R"([{"name": "c", "type": "categorical"}])");                       // missing choices
  bad(R"([{"name": "c", "type": "categorical", "choices": "a"}])");       // choices not an array
  bad(R"([{"name": "c", "type": "categorical", "choices": ["a", 1]}])");  // non-string choice
  bad(R"([{"name": "c", "type": "categorical", "choices": []}])");        // no choices
  bad(R"([{"name": "c", "type": "categorical", "choices": ["a"], "log": false}])");
  bad(R"([{"name": "c", "type": "categorical", "choices": ["a"], "low": 0}])");
  bad("[{" + f + R"(, "low": 0, "high": 1}, {)" + f + R"(, "low": 0, "high": 1}])");  // dup name
}

TEST(SpaceJson, MessagesAreSpecific) {
  const std::string parse = error_of([] { Space::from_json("{\"params\": [1,]}"); });
  EXPECT_NE(parse.find("parse error"), std::string::npos) << parse;  // the parser's message
  const std::string typo = error_of([] {
    Space::from_json(R"([{"name": "lr", "type": "float", "lo": 0, "low": 0, "high": 1}])");
  });
  EXPECT_NE(typo.find("unknown key"), std::string::npos) << typo;
  EXPECT_NE(typo.find("'lr'"), std::string::npos) << typo;
  EXPECT_NE(typo.find("\"lo\""), std::string::npos) << typo;
  const std::string type = error_of(
      [] { Space::from_json(R"([{"name": "x", "type": "double", "low": 0, "high": 1}])"); });
  EXPECT_NE(type.find("categorical"), std::string::npos) << type;  // lists the allowed types
  EXPECT_NE(error_of([] { Space::from_json("{}"); }).find("params"), std::string::npos);
}

TEST(SpaceEncoding, DimensionsOffsetsAndMask) {
  const Space s = mixed_space();
  EXPECT_EQ(s.size(), 6u);
  EXPECT_EQ(s.encoded_dim(), 1 + 1 + 3 + 1 + 1 + 2);
  const std::vector<int> offsets = {0, 1, 2, 5, 6, 7};
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s.offset(i), offsets[i]) << i;
  const std::vector<bool> mask = {false, true, true, true, true, true, false, true, true};
  EXPECT_EQ(s.discrete_mask(), mask);
  EXPECT_FALSE(s.all_discrete());
  Space d;
  d.add_int("n", 0, 3).add_categorical("c", {"a", "b"});
  EXPECT_TRUE(d.all_discrete());
}

TEST(SpaceEncoding, FloatRoundTrip) {
  Space s;
  s.add_float("lin", -3.5, 12.25).add_float("log", 1e-6, 1e3, true);
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> lin(-3.5, 12.25), log_exp(-6.0, 3.0);
  int exact = 0;
  constexpr int kTrials = 2000;
  for (int t = 0; t < kTrials; ++t) {
    const double a = lin(rng), b = std::pow(10.0, log_exp(rng));
    if (b < 1e-6 || b > 1e3) continue;  // pow may round just outside the bounds
    const Params p = {{"lin", a}, {"log", b}};
    const Eigen::VectorXd u = s.encode(p);
    ASSERT_TRUE((u.array() >= 0.0).all() && (u.array() <= 1.0).all());
    const Params q = s.decode(u);
    const double a2 = std::get<double>(q.at("lin")), b2 = std::get<double>(q.at("log"));
    EXPECT_NEAR(a2, a, 1e-12 * 15.75);
    EXPECT_NEAR(b2, b, 1e-12 * b);
    exact += (a2 == a);
  }
  // Linear decode is written to be exact in the usual case; a log encoding can't always be,
  // since nearby values share an encoding when ln(high / low) is large.
  EXPECT_GT(exact, kTrials * 9 / 10);
  // The endpoints come back exactly.
  for (const Params& p :
       {Params{{"lin", -3.5}, {"log", 1e-6}}, Params{{"lin", 12.25}, {"log", 1e3}}})
    EXPECT_EQ(s.decode(s.encode(p)), p);
}

TEST(SpaceEncoding, IntRoundTripEveryValue) {
  Space s;
  s.add_int("lin", -3, 7).add_int("log", 1, 300, true);
  double last_lin = -1.0, last_log = -1.0;
  for (std::int64_t v = 1; v <= 300; ++v) {
    const std::int64_t w = -3 + (v - 1) % 11;
    const Params p = {{"lin", w}, {"log", v}};
    const Eigen::VectorXd u = s.encode(p);
    EXPECT_EQ(s.decode(u), p) << w << " " << v;
    EXPECT_GT(u[1], last_log);  // strictly increasing and inside (0, 1)
    EXPECT_LT(u[1], 1.0);
    last_log = u[1];
    if (v <= 11) {
      EXPECT_GT(u[0], last_lin);
      last_lin = u[0];
    }
  }
  // Equal-width bins: the middle integer of an odd range sits at 0.5.
  Space m;
  m.add_int("n", 0, 4);
  EXPECT_DOUBLE_EQ(m.encode({{"n", std::int64_t{2}}})[0], 0.5);
}

TEST(SpaceStep, EveryGridValueRoundTripsAndDecodesOntoTheGrid) {
  Space s;
  s.add_float("frac", 0.0, 1.0, false, 0.1).add_int("batch", 32, 512, false, 32);
  ASSERT_EQ(s.discrete_mask(), (std::vector<bool>{true, true}));
  EXPECT_TRUE(s.all_discrete());
  // Grid values are exact as people write them: 0.3, not 0.30000000000000004.
  for (int k = 0; k <= 10; ++k) {
    const double want = std::stod(std::to_string(k) + "e-1");
    const Params p = {{"frac", want}, {"batch", std::int64_t{32} + 32 * (k % 16)}};
    EXPECT_EQ(s.decode(s.encode(p)), p) << k;
  }
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-0.2, 1.2);
  for (int i = 0; i < 2000; ++i) {
    const Params p = s.decode(Eigen::Vector2d(u(rng), u(rng)));
    const double f = std::get<double>(p.at("frac"));
    const std::int64_t b = std::get<std::int64_t>(p.at("batch"));
    EXPECT_EQ(f, std::round(f * 10.0) / 10.0) << f;  // on the grid, to the last bit
    EXPECT_EQ((b - 32) % 32, 0) << b;
    EXPECT_NO_THROW(s.validate(p));
    Eigen::VectorXd e = s.encode(p);
    const Eigen::VectorXd before = e;
    s.snap(e);
    EXPECT_EQ(e, before);  // encodings of grid values are fixed points of snap
  }
  // Equal-width bins, as for ints: 11 values, the middle one at 0.5.
  EXPECT_DOUBLE_EQ(s.encode({{"frac", 0.5}, {"batch", std::int64_t{32}}})[0], 0.5);
}

TEST(SpaceStep, BadStepsAndOffGridValuesAreRefused) {
  EXPECT_NE(error_of([] {
              Space().add_float("x", 0.0, 1.0, false, 0.3);
            }).find("high - low must be a multiple of \"step\""),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Space().add_float("x", 0.0, 1.0, false, 0.3);
            }).find("the nearest grid value below high is 0.9"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Space().add_float("x", 1.0, 10.0, true, 1.0);
            }).find("\"step\" and \"log\" cannot be used together"),
            std::string::npos);
  EXPECT_NE(error_of([] { Space().add_float("x", 0.0, 1.0, false, 2.0); }).find("larger than"),
            std::string::npos);
  EXPECT_NE(error_of([] { Space().add_float("x", 0.0, 1.0, false, -0.1); }).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of([] { Space().add_float("x", 0.0, 1.0, false, kNaN); }).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of([] { Space().add_int("n", 0, 10, false, 3); }).find("multiple"),
            std::string::npos);
  EXPECT_NE(error_of([] { Space().add_int("n", 0, 10, false, -2); }).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of([] { Space().add_int("n", 1, 64, true, 2); }).find("cannot be used"),
            std::string::npos);
  Space ok;
  EXPECT_NO_THROW(ok.add_int("n", 1, 64, true, 1));  // a step of 1 is every integer, log or not
  Space s;
  s.add_float("frac", 0.0, 1.0, false, 0.25).add_int("batch", 32, 128, false, 32);
  EXPECT_NE(error_of([&] {
              s.validate({{"frac", 0.3}, {"batch", std::int64_t{64}}});
            }).find("not on its grid 0 + k * 0.25"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              s.validate({{"frac", 0.5}, {"batch", std::int64_t{50}}});
            }).find("not on its grid 32 + k * 32"),
            std::string::npos);
  EXPECT_NO_THROW(s.validate({{"frac", 0.75}, {"batch", 96.0}}));
}

TEST(SpaceStep, JsonFormRoundTrips) {
  const Space s = Space::from_json(
      R"({"params": [{"name": "frac", "type": "float", "low": 0, "high": 1, "step": 0.05},
                     {"name": "batch", "type": "int", "low": 32, "high": 256, "step": 32},
                     {"name": "lr", "type": "float", "low": 1e-4, "high": 1, "log": true}]})");
  EXPECT_EQ(s.params()[0].step, 0.05);
  EXPECT_EQ(s.params()[1].step, 32.0);
  EXPECT_EQ(s.params()[2].step, 0.0);
  EXPECT_EQ(Space::from_json(s.to_json()), s);
  EXPECT_NE(s.to_json().find("\"step\": 32"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(s.to_json())["params"][2].contains("step"));  // no grid
  EXPECT_NE(error_of([] {
              Space::from_json(R"([{"name": "c", "type": "categorical", "choices": ["a"],
                                     "step": 1}])");
            }).find("not allowed for categorical"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Space::from_json(R"([{"name": "n", "type": "int", "low": 0, "high": 8,
                                     "step": 2.5}])");
            }).find("\"step\" must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Space::from_json(R"([{"name": "x", "type": "float", "low": 0, "high": 1,
                                     "step": "0.1"}])");
            }).find("\"step\" must be a number"),
            std::string::npos);
}

TEST(SpaceEncoding, CategoricalRoundTripEveryChoice) {
  Space s;
  s.add_categorical("opt", {"adam", "sgd", "rmsprop"});
  for (int k = 0; k < 3; ++k) {
    const Params p = {{"opt", s.params()[0].choices[k]}};
    const Eigen::VectorXd u = s.encode(p);
    Eigen::VectorXd one_hot = Eigen::VectorXd::Zero(3);
    one_hot[k] = 1.0;
    EXPECT_EQ(u, one_hot);
    EXPECT_EQ(s.decode(u), p);
  }
  // argmax, first index on ties.
  EXPECT_EQ(std::get<std::string>(s.decode(Eigen::Vector3d(0.2, 0.7, 0.7)).at("opt")), "sgd");
  EXPECT_EQ(std::get<std::string>(s.decode(Eigen::Vector3d(0.0, 0.0, 0.0)).at("opt")), "adam");
}

TEST(SpaceEncoding, MixedRoundTripAndCoercions) {
  const Space s = mixed_space();
  const Params p = mixed_point();
  expect_same_point(s.decode(s.encode(p)), p);
  // A float accepts an int64; an int accepts an integral double.
  Params coerced = p;
  coerced["drop"] = std::int64_t{0};
  coerced["layers"] = 4.0;
  const Params back = s.decode(s.encode(coerced));
  EXPECT_EQ(std::get<double>(back.at("drop")), 0.0);
  EXPECT_EQ(std::get<std::int64_t>(back.at("layers")), 4);
}

TEST(SpaceEncoding, DecodeOfAnyVectorIsValid) {
  const Space s = mixed_space();
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0), wide(-2.0, 3.0);
  for (int t = 0; t < 1000; ++t) {
    Eigen::VectorXd u(s.encoded_dim());
    for (int d = 0; d < u.size(); ++d) u[d] = t % 2 ? unit(rng) : wide(rng);
    EXPECT_NO_THROW(s.validate(s.decode(u)));
  }
  EXPECT_NO_THROW(s.validate(s.decode(Eigen::VectorXd::Zero(s.encoded_dim()))));
  EXPECT_NO_THROW(s.validate(s.decode(Eigen::VectorXd::Ones(s.encoded_dim()))));
  EXPECT_NO_THROW(s.validate(s.decode(Eigen::VectorXd::Constant(s.encoded_dim(), kNaN))));
  EXPECT_THROW(s.decode(Eigen::VectorXd::Zero(3)), InvalidArgument);
}

TEST(SpaceEncoding, SnapProjectsDiscreteDimsAndIsIdempotent) {
  const Space s = mixed_space();
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> dist(-0.2, 1.2);
  for (int t = 0; t < 500; ++t) {
    Eigen::VectorXd u(s.encoded_dim());
    for (int d = 0; d < u.size(); ++d) u[d] = dist(rng);
    Eigen::VectorXd v = u;
    s.snap(v);
    const Eigen::VectorXd feasible = s.encode(s.decode(u));
    for (int d = 0; d < u.size(); ++d) {
      if (s.discrete_mask()[d])
        EXPECT_EQ(v[d], feasible[d]) << d;  // discrete dims are exactly a feasible encoding
      else
        EXPECT_EQ(v[d], std::clamp(u[d], 0.0, 1.0)) << d;  // continuous dims only clamped
    }
    EXPECT_EQ(s.decode(v), s.decode(u));
    Eigen::VectorXd w = v;
    s.snap(w);
    EXPECT_EQ(w, v);
  }
  Eigen::VectorXd wrong(2);
  EXPECT_THROW(s.snap(wrong), InvalidArgument);
}

TEST(SpaceValidate, RejectsBadPoints) {
  const Space s = mixed_space();
  const Params good = mixed_point();
  EXPECT_NO_THROW(s.validate(good));
  const auto with = [&](const std::string& name, ParamValue v) {
    Params p = good;
    p[name] = std::move(v);
    return p;
  };
  Params missing = good;
  missing.erase("opt");
  EXPECT_NE(error_of([&] { s.validate(missing); }).find("'opt'"), std::string::npos);
  EXPECT_NE(error_of([&] { s.validate(with("momentum", 0.9)); }).find("'momentum'"),
            std::string::npos);
  EXPECT_THROW(s.validate(with("lr", std::string("0.1"))), InvalidArgument);  // wrong type
  EXPECT_THROW(s.validate(with("layers", 2.5)), InvalidArgument);             // non-integral
  EXPECT_THROW(s.validate(with("layers", std::string("2"))), InvalidArgument);
  EXPECT_THROW(s.validate(with("opt", std::int64_t{0})), InvalidArgument);
  EXPECT_THROW(s.validate(with("opt", std::string("adagrad"))), InvalidArgument);
  EXPECT_THROW(s.validate(with("lr", 0.2)), InvalidArgument);  // out of bounds
  EXPECT_THROW(s.validate(with("lr", 1e-6)), InvalidArgument);
  EXPECT_THROW(s.validate(with("drop", std::int64_t{1})), InvalidArgument);
  EXPECT_THROW(s.validate(with("layers", std::int64_t{0})), InvalidArgument);
  EXPECT_THROW(s.validate(with("layers", std::int64_t{9})), InvalidArgument);
  EXPECT_THROW(s.validate(with("layers", 9.0)), InvalidArgument);
  EXPECT_THROW(s.validate(with("lr", kNaN)), InvalidArgument);
  EXPECT_THROW(s.validate(with("drop", kInf)), InvalidArgument);
  EXPECT_THROW(s.validate(with("layers", kNaN)), InvalidArgument);
  EXPECT_THROW(s.encode(with("lr", kNaN)), InvalidArgument);  // encode validates
  // Bounds are inclusive.
  EXPECT_NO_THROW(s.validate(with("lr", 0.1)));
  EXPECT_NO_THROW(s.validate(with("layers", std::int64_t{8})));
  EXPECT_NO_THROW(s.validate(with("drop", -0.5)));
}

TEST(SpaceMisc, EqualityComparesSpecsInOrder) {
  Space a, b, c, d;
  a.add_float("x", 0, 1).add_int("n", 1, 4);
  b.add_float("x", 0, 1).add_int("n", 1, 4);
  c.add_int("n", 1, 4).add_float("x", 0, 1);
  d.add_float("x", 0, 1).add_int("n", 1, 4, true);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  EXPECT_FALSE(a == d);
  EXPECT_FALSE(a == Space());
}

TEST(SpaceMisc, ToString) {
  EXPECT_EQ(to_string(ParamValue(0.5)), "0.5");
  EXPECT_EQ(to_string(ParamValue(0.1)), "0.1");
  EXPECT_EQ(std::stod(to_string(ParamValue(1.0 / 3.0))), 1.0 / 3.0);
  EXPECT_EQ(to_string(ParamValue(std::int64_t{-3})), "-3");
  EXPECT_EQ(to_string(ParamValue(std::string("adam"))), "adam");
}

}  // namespace
}  // namespace gpbo

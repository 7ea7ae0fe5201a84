// gpbo_study_create_warm: a study warm-started from another study of the store and from an
// inline source; bad warm starts are GPBO_ERR_INVALID_ARGUMENT and create nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "gpbo/gpbo.h"

namespace {

using nlohmann::json;

const char* const kSpace =
    R"({"params": [{"name": "x", "type": "float", "low": -2.0, "high": 2.0},
                   {"name": "k", "type": "int", "low": 1, "high": 5}]})";

json take_json(char* text) {
  EXPECT_NE(text, nullptr);
  if (text == nullptr) return json();
  const std::string s = text;
  gpbo_free(text);
  return json::parse(s);
}

class CApiWarmStart : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(gpbo_storage_open("memory://", &storage_), GPBO_OK) << gpbo_last_error();
  }
  void TearDown() override { gpbo_storage_close(storage_); }

  /// A source study "src" with 8 trials of (x - 1)^2 + k; returns its best params.
  json make_source() {
    gpbo_study* src = nullptr;
    EXPECT_EQ(gpbo_study_create(storage_, "src", kSpace, "minimize", nullptr, &src), GPBO_OK)
        << gpbo_last_error();
    for (int i = 0; i < 8; ++i) {
      char* out = nullptr;
      EXPECT_EQ(gpbo_study_ask(src, 1, nullptr, &out), GPBO_OK) << gpbo_last_error();
      const json t = take_json(out).at("trials").at(0);
      const double x = t.at("params").at("x").get<double>();
      const double v = (x - 1.0) * (x - 1.0) + t.at("params").at("k").get<double>();
      EXPECT_EQ(gpbo_study_tell(src, t.at("id").get<int64_t>(), v), GPBO_OK);
    }
    char* best = nullptr;
    EXPECT_EQ(gpbo_study_best(src, &best), GPBO_OK) << gpbo_last_error();
    gpbo_study_close(src);
    return take_json(best).at("params");
  }

  gpbo_storage* storage_ = nullptr;
};

TEST_F(CApiWarmStart, StartsAtTheSourcesBestPoint) {
  const json best = make_source();
  gpbo_study* warm = nullptr;
  ASSERT_EQ(gpbo_study_create_warm(storage_, "warm", kSpace, "minimize", nullptr,
                                   R"(["src", {"study": "inline", "direction": "minimize",
                                       "observations": [{"params": {"x": 0.5}, "value": 2.0}]}])",
                                   &warm),
            GPBO_OK)
      << gpbo_last_error();
  char* out = nullptr;
  ASSERT_EQ(gpbo_study_ask(warm, 1, nullptr, &out), GPBO_OK) << gpbo_last_error();
  // The last source is the inline one: its best (and only) point, k at the space's centre.
  const json first = take_json(out).at("trials").at(0).at("params");
  EXPECT_DOUBLE_EQ(first.at("x").get<double>(), 0.5);
  EXPECT_EQ(first.at("k").get<int>(), 3);
  gpbo_study_close(warm);

  gpbo_study* only_src = nullptr;
  ASSERT_EQ(gpbo_study_create_warm(storage_, "warm2", kSpace, "minimize", nullptr, R"(["src"])",
                                   &only_src),
            GPBO_OK)
      << gpbo_last_error();
  ASSERT_EQ(gpbo_study_ask(only_src, 1, nullptr, &out), GPBO_OK) << gpbo_last_error();
  EXPECT_EQ(take_json(out).at("trials").at(0).at("params"), best);
  gpbo_study_close(only_src);
}

TEST_F(CApiWarmStart, BadWarmStartsAreInvalidArguments) {
  make_source();
  const char* const other = R"({"params": [{"name": "lr", "type": "float", "low": 0, "high": 1}]})";
  struct Case {
    const char* space;
    const char* name;
    const char* warm;
    const char* message;
  };
  const Case cases[] = {
      {kSpace, "bad", R"(["missing"])", "no study 'missing'"},
      {kSpace, "bad", R"(["bad"])", "cannot learn from itself"},
      {other, "bad", R"(["src"])", "no parameter of the source matches"},
      {kSpace, "bad", R"(["src", "src"])", "listed twice"},
      {kSpace, "bad", R"({"src": 1})", "must be an array"},
      {kSpace, "bad", R"([{"study": "x"}])", "observations"},
      {kSpace, "bad", "[", "malformed JSON"},
  };
  for (const Case& c : cases) {
    gpbo_study* s = nullptr;
    EXPECT_EQ(gpbo_study_create_warm(storage_, c.name, c.space, "minimize", nullptr, c.warm, &s),
              GPBO_ERR_INVALID_ARGUMENT)
        << c.warm;
    EXPECT_EQ(s, nullptr);
    EXPECT_NE(std::string(gpbo_last_error()).find(c.message), std::string::npos)
        << c.warm << ": " << gpbo_last_error();
    gpbo_study* opened = nullptr;
    EXPECT_EQ(gpbo_study_open(storage_, "bad", &opened), GPBO_ERR_NOT_FOUND) << c.warm;
  }
}

}  // namespace

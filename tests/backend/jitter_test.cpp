// The jitter ladder both backends share (src/backend/jitter.hpp), and how a factorization's info
// maps to errors. The backends' own use of it is tested by the *JitterLadder* cases of
// tests/model/gp_test.cpp; an illegal argument reaching cuSOLVER, by the device emulation.
#include "backend/jitter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gpbo/error.hpp"

namespace {

using gpbo::detail::climb_jitter_ladder;
using gpbo::detail::factorization_succeeded;

TEST(JitterLadder, RungsAreTenfoldStepsOfTheMeanDiagonal) {
  EXPECT_EQ(gpbo::detail::jitter_for_rung(0, 2.0), 0.0);
  EXPECT_DOUBLE_EQ(gpbo::detail::jitter_for_rung(1, 2.0), 2e-10);
  EXPECT_DOUBLE_EQ(gpbo::detail::jitter_for_rung(8, 2.0), 2e-3);
  EXPECT_EQ(gpbo::detail::kJitterRungs, 9);
}

TEST(JitterLadder, ReturnsTheJitterOfTheFirstRungThatFactors) {
  std::vector<int> rungs;
  const double jitter = climb_jitter_ladder(4.0, "test", [&](int rung, double) {
    rungs.push_back(rung);
    return rung == 3;
  });
  EXPECT_DOUBLE_EQ(jitter, 4e-8);
  EXPECT_EQ(rungs, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(climb_jitter_ladder(4.0, "test", [](int, double) { return true; }), 0.0);
}

TEST(JitterLadder, NoRungFactoringIsANumericalErrorNamingTheMatrixAndTheLastJitter) {
  int calls = 0;
  try {
    climb_jitter_ladder(1.0, "posterior", [&](int, double) {
      ++calls;
      return false;
    });
    FAIL() << "no throw";
  } catch (const gpbo::NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("posterior"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0.001"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, gpbo::detail::kJitterRungs);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(climb_jitter_ladder(nan, "posterior", [](int, double) { return true; }),
               gpbo::NumericalError);
}

TEST(JitterLadder, FactorizationInfo) {
  EXPECT_TRUE(factorization_succeeded(0, "LAPACKE_dpotrf_work", "posterior"));
  EXPECT_FALSE(factorization_succeeded(7, "LAPACKE_dpotrf_work", "posterior"));
}

// info < 0 is an illegal argument: a bug in gpbo, reported as the base Error (an internal
// error), not as a NumericalError (an infeasible point to the fit) or BackendUnavailable.
TEST(JitterLadder, IllegalArgumentIsAnInternalErrorNamingTheCallAndTheArgument) {
  try {
    factorization_succeeded(-4, "cusolverDnXpotrf", "log marginal likelihood");
    FAIL() << "no throw";
  } catch (const gpbo::NumericalError&) {
    FAIL() << "a NumericalError";
  } catch (const gpbo::BackendUnavailable&) {
    FAIL() << "a BackendUnavailable";
  } catch (const gpbo::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cusolverDnXpotrf"), std::string::npos) << what;
    EXPECT_NE(what.find("argument 4"), std::string::npos) << what;
    EXPECT_NE(what.find("internal error"), std::string::npos) << what;
  }
  // Through the ladder too: the throw is not taken for a failed rung.
  EXPECT_THROW(climb_jitter_ladder(1.0, "posterior",
                                   [](int, double) {
                                     return factorization_succeeded(-1, "LAPACKE_dpotrf_work",
                                                                    "posterior");
                                   }),
               gpbo::Error);
}

}  // namespace

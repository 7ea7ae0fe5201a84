#pragma once
// Shared inputs of the speed benchmarks: n uniform points of [0,1]^d and Levy values there
// (a smooth, multimodal response, so fitted lengthscales are realistic).

#include <Eigen/Core>
#include <random>

#include "gpbo/test_functions.hpp"

namespace gpbo::bench {

struct Data {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
};

inline Data make_data(int n, int d, unsigned seed = 7) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unif;
  const TestFunction f = TestFunction::make("levy", d);
  Data data{Eigen::MatrixXd(n, d), Eigen::VectorXd(n)};
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) data.X(i, j) = unif(rng);
    const Eigen::VectorXd x =
        f.lower().array() + (f.upper() - f.lower()).array() * data.X.row(i).transpose().array();
    data.y(i) = f(x);
  }
  return data;
}

}  // namespace gpbo::bench

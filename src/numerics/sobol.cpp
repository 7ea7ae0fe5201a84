#include "numerics/sobol.hpp"

#include <random>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

int checked_dim(int d) {
  if (d < 1 || d > static_cast<int>(BOOST_RANDOM_SOBOL_MAX_DIMENSION)) {
    throw InvalidArgument("Sobol: dimension must be in [1, " +
                          std::to_string(BOOST_RANDOM_SOBOL_MAX_DIMENSION) + "], got " +
                          std::to_string(d));
  }
  return d;
}

}  // namespace

SobolSampler::SobolSampler(int d, std::uint64_t seed)
    : dim_(checked_dim(d)), engine_(static_cast<unsigned>(d)), shift_(d) {
  std::mt19937_64 rng(seed);
  for (auto& s : shift_) s = rng();
}

Eigen::MatrixXd SobolSampler::draw(int n) {
  Eigen::MatrixXd out(n, dim_);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < dim_; ++j) {
      const std::uint64_t v = engine_() ^ shift_[j];
      out(i, j) = static_cast<double>(v >> 11) * 0x1.0p-53;  // top 53 bits -> [0, 1)
    }
  }
  return out;
}

}  // namespace gpbo

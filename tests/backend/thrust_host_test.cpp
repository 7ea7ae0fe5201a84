// The CUDA backend's scoring functors (cuda/score_functors.cuh) on Thrust's host backend:
// compiled by g++ with THRUST_DEVICE_SYSTEM=CPP, so the functor code runs in CI without a GPU.
#include <gtest/gtest.h>
#include <thrust/device_vector.h>
#include <thrust/functional.h>
#include <thrust/iterator/zip_iterator.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>

#include <random>
#include <vector>

#include "../cuda/score_functors.cuh"

namespace {

using gpbo::AcquisitionParams;
using gpbo::AcquisitionType;

/// The host backend runs the same double-precision code as the loop: results must be identical.
constexpr double kExact = 0.0;

struct Posterior {
  std::vector<double> mean, var;
};

Posterior random_posterior(int m, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif(-8.0, 1.0);
  Posterior p;
  for (int i = 0; i < m; ++i) {
    p.mean.push_back(normal(rng));
    p.var.push_back(std::pow(10.0, unif(rng)));  // 1e-8 .. 10: deep tails included
  }
  return p;
}

TEST(ThrustHost, AcquisitionValuesMatchTheScalarFunctor) {
  static_assert(THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CPP, "host backend expected");
  const Posterior post = random_posterior(10000, 3);
  const thrust::device_vector<double> mean(post.mean.begin(), post.mean.end());
  const thrust::device_vector<double> var(post.var.begin(), post.var.end());
  for (AcquisitionType type : {AcquisitionType::kLogEI, AcquisitionType::kEI, AcquisitionType::kUCB,
                               AcquisitionType::kPI}) {
    AcquisitionParams params;
    params.type = type;
    params.best_f = 1.5;
    thrust::device_vector<double> values(mean.size());
    auto first = thrust::make_zip_iterator(thrust::make_tuple(mean.begin(), var.begin()));
    thrust::transform(first, first + mean.size(), values.begin(), gpbo::AcquisitionValueOp{params});
    for (std::size_t i = 0; i < post.mean.size(); ++i) {
      const double expected = gpbo::evaluate_acquisition(params, post.mean[i], post.var[i]).value;
      ASSERT_NEAR(values[i], expected, kExact) << "candidate " << i;
      ASSERT_TRUE(std::isfinite(static_cast<double>(values[i]))) << "candidate " << i;
    }
  }
}

TEST(ThrustHost, ChainWeightsMatchTheScalarFunctor) {
  const Posterior post = random_posterior(2000, 5);
  const thrust::device_vector<double> mean(post.mean.begin(), post.mean.end());
  const thrust::device_vector<double> var(post.var.begin(), post.var.end());
  AcquisitionParams params;
  params.best_f = 0.7;
  thrust::device_vector<double> d_mean(mean.size()), d_var(mean.size());
  auto first = thrust::make_zip_iterator(thrust::make_tuple(mean.begin(), var.begin()));
  auto out = thrust::make_zip_iterator(thrust::make_tuple(d_mean.begin(), d_var.begin()));
  thrust::transform(first, first + mean.size(), out, gpbo::AcquisitionChainOp{params});
  for (std::size_t i = 0; i < post.mean.size(); ++i) {
    const auto a = gpbo::evaluate_acquisition(params, post.mean[i], post.var[i]);
    ASSERT_EQ(d_mean[i], a.d_mean);
    ASSERT_EQ(d_var[i], a.d_var);
  }
}

TEST(ThrustHost, TopKByScoreSelectsTheBestCandidates) {
  // Top-k selection as the CUDA backend does it: sort candidate indices by score, descending.
  const Posterior post = random_posterior(5000, 11);
  const thrust::device_vector<double> mean(post.mean.begin(), post.mean.end());
  const thrust::device_vector<double> var(post.var.begin(), post.var.end());
  AcquisitionParams params;
  thrust::device_vector<double> values(mean.size());
  auto first = thrust::make_zip_iterator(thrust::make_tuple(mean.begin(), var.begin()));
  thrust::transform(first, first + mean.size(), values.begin(), gpbo::AcquisitionValueOp{params});
  thrust::device_vector<int> index(mean.size());
  thrust::sequence(index.begin(), index.end());
  thrust::sort_by_key(values.begin(), values.end(), index.begin(), thrust::greater<double>());
  std::vector<double> scalar;
  for (std::size_t i = 0; i < post.mean.size(); ++i) {
    scalar.push_back(gpbo::evaluate_acquisition(params, post.mean[i], post.var[i]).value);
  }
  std::vector<double> sorted = scalar;
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(values[k], sorted[k]);
    EXPECT_EQ(scalar[index[k]], sorted[k]) << "rank " << k;
  }
}

}  // namespace

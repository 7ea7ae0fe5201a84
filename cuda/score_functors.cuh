#pragma once
// Thrust functors that score candidates from their posterior mean and variance. Written once:
// the CUDA backend runs them on the device, and tests/backend/thrust_host_test.cpp compiles
// them with g++ for Thrust's host (CPP) backend so CI runs this exact code without a GPU.

#include <thrust/tuple.h>

#include "backend/acquisition_functors.hpp"

namespace gpbo {

/// (mean, var) -> acquisition value.
struct AcquisitionValueOp {
  AcquisitionParams params;
  GPBO_HD double operator()(const thrust::tuple<double, double>& mean_var) const {
    return evaluate_acquisition(params, thrust::get<0>(mean_var), thrust::get<1>(mean_var)).value;
  }
};

/// (mean, var) -> (d value / d mean, d value / d var), the weights that turn the posterior's
/// mean and variance gradients into the acquisition gradient.
struct AcquisitionChainOp {
  AcquisitionParams params;
  GPBO_HD thrust::tuple<double, double> operator()(
      const thrust::tuple<double, double>& mean_var) const {
    const AcquisitionValue a =
        evaluate_acquisition(params, thrust::get<0>(mean_var), thrust::get<1>(mean_var));
    return thrust::make_tuple(a.d_mean, a.d_var);
  }
};

}  // namespace gpbo

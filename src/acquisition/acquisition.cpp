#include "gpbo/acquisition.hpp"

#include "backend/acquisition_functors.hpp"

namespace gpbo {

double log_h(double z) {
  double lh, dlh;
  acq_detail::log_h_and_grad(z, &lh, &dlh);
  return lh;
}

double log_ndtr(double z) {
  double lc, ratio;
  acq_detail::log_ndtr_and_ratio(z, &lc, &ratio);
  return lc;
}

}  // namespace gpbo

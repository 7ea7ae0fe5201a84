#include "gpbo/acquisition.hpp"

#include <cctype>
#include <string>

#include "acquisition/acquisition_functors.hpp"
#include "common/text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {

AcquisitionType parse_acquisition(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "logei" || t == "log_ei" || t == "log-ei") return AcquisitionType::kLogEI;
  if (t == "ei") return AcquisitionType::kEI;
  if (t == "ucb") return AcquisitionType::kUCB;
  if (t == "pi" || t == "logpi") return AcquisitionType::kPI;
  throw InvalidArgument("acquisition '" + text + "': expected logei, ei, ucb or pi");
}

std::string to_string(AcquisitionType type) {
  switch (type) {
    case AcquisitionType::kLogEI:
      return "logei";
    case AcquisitionType::kEI:
      return "ei";
    case AcquisitionType::kUCB:
      return "ucb";
    case AcquisitionType::kPI:
      return "pi";
  }
  return "?";
}

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

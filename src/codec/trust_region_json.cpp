// The JSON form of a trust region's state (gpbo/trust_region.hpp), carried in a stored
// study's engine state.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/trust_region.hpp"

namespace gpbo {

std::string trust_region_state_to_json(const TrustRegionState& s) {
  nlohmann::json j = {
      {"length", s.length},
      {"success_count", s.success_count},
      {"failure_count", s.failure_count},
      {"restarts", s.restarts},
      {"center", std::vector<double>(s.center.data(), s.center.data() + s.center.size())},
      {"best_value", s.best_value ? nlohmann::json(*s.best_value) : nlohmann::json(nullptr)},
      {"region_start", s.region_start},
      {"n_seen", s.n_seen}};
  if (!s.members.empty()) j["members"] = s.members;
  if (s.best_violation) j["best_violation"] = *s.best_violation;
  return j.dump();
}

TrustRegionState trust_region_state_from_json(const std::string& text, int dim) {
  TrustRegionState s;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    s.length = j.at("length").get<double>();
    s.success_count = j.at("success_count").get<int>();
    s.failure_count = j.at("failure_count").get<int>();
    s.restarts = j.at("restarts").get<int>();
    const auto c = j.at("center").get<std::vector<double>>();
    s.center = Eigen::Map<const Eigen::VectorXd>(c.data(), static_cast<Eigen::Index>(c.size()));
    if (!j.at("best_value").is_null()) s.best_value = j.at("best_value").get<double>();
    s.region_start = j.at("region_start").get<std::int64_t>();
    s.n_seen = j.at("n_seen").get<std::int64_t>();
    if (j.contains("members")) s.members = j.at("members").get<std::vector<std::int64_t>>();
    if (j.contains("best_violation")) s.best_violation = j.at("best_violation").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("trust region state: ") + e.what());
  }
  if (!(s.length > 0.0) || !std::isfinite(s.length) || s.success_count < 0 || s.failure_count < 0 ||
      s.restarts < 0 || s.region_start < 0 || s.n_seen < 0 || !s.center.allFinite() ||
      (s.best_violation && !(*s.best_violation >= 0.0 && std::isfinite(*s.best_violation))) ||
      std::any_of(s.members.begin(), s.members.end(), [](std::int64_t id) { return id < 0; }) ||
      (s.center.size() > 0 && (s.center.minCoeff() < 0.0 || s.center.maxCoeff() > 1.0))) {
    throw InvalidArgument("trust region state: a value is out of range");
  }
  if (dim >= 0 && s.center.size() != dim) {
    throw InvalidArgument("trust region state: the centre has " + std::to_string(s.center.size()) +
                          " coordinates, expected " + std::to_string(dim));
  }
  return s;
}

}  // namespace gpbo

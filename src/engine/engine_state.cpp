#include "engine/engine_state.hpp"

#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {

using nlohmann::json;

EngineState EngineState::parse(const std::string& text, const Space& space) {
  EngineState s;
  try {
    const json j = json::parse(text);
    if (j.contains("queue")) {
      for (const json& item : j.at("queue")) {
        s.queue.push_back(
            {params_from_json(item.at("params"), space), item.at("source").get<std::string>()});
      }
    }
    std::vector<json> regions;
    if (j.contains("trust_regions")) {
      regions = j.at("trust_regions").get<std::vector<json>>();
    } else if (j.contains("trust_region")) {
      regions = {j.at("trust_region")};
    }
    for (const json& r : regions) {
      s.trust_regions.push_back(trust_region_state_from_json(r.dump(), space.encoded_dim()));
    }
    if (j.contains("hyper")) {
      const json& h = j.at("hyper");
      GpHyperparameters g;
      const auto ls = h.at("lengthscales").get<std::vector<double>>();
      g.lengthscales = Eigen::Map<const Eigen::VectorXd>(ls.data(), Eigen::Index(ls.size()));
      g.outputscale = h.at("outputscale").get<double>();
      g.noise = h.at("noise").get<double>();
      g.mean = h.at("mean").get<double>();
      s.hyper = g;
    }
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("engine state: ") + e.what());
  }
  return s;
}

std::string EngineState::dump() const {
  json q = json::array();
  for (const QueuedPoint& p : queue)
    q.push_back({{"params", params_to_json(p.params)}, {"source", p.source}});
  json j = {{"queue", std::move(q)}};
  if (hyper) {
    j["hyper"] = {{"lengthscales",
                   std::vector<double>(hyper->lengthscales.data(),
                                       hyper->lengthscales.data() + hyper->lengthscales.size())},
                  {"outputscale", hyper->outputscale},
                  {"noise", hyper->noise},
                  {"mean", hyper->mean}};
  }
  std::vector<json> regions;
  for (const TrustRegionState& r : trust_regions) {
    regions.push_back(json::parse(trust_region_state_to_json(r)));
  }
  // One region keeps the single-object form that earlier versions read.
  if (regions.size() == 1) j["trust_region"] = regions[0];
  if (regions.size() > 1) j["trust_regions"] = regions;
  return j.dump();
}

}  // namespace gpbo

#include "engine/engine_state.hpp"

#include "codec/warm_start_json.hpp"
#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {

using nlohmann::json;

namespace {

GpHyperparameters hyper_from_json(const json& h) {
  GpHyperparameters g;
  const auto ls = h.at("lengthscales").get<std::vector<double>>();
  g.lengthscales = Eigen::Map<const Eigen::VectorXd>(ls.data(), Eigen::Index(ls.size()));
  g.outputscale = h.at("outputscale").get<double>();
  g.noise = h.at("noise").get<double>();
  g.mean = h.at("mean").get<double>();
  return g;
}

json hyper_to_json(const GpHyperparameters& h) {
  return {{"lengthscales", std::vector<double>(h.lengthscales.data(),
                                               h.lengthscales.data() + h.lengthscales.size())},
          {"outputscale", h.outputscale},
          {"noise", h.noise},
          {"mean", h.mean}};
}

}  // namespace

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
    if (j.contains("drift_checks")) {
      for (const json& c : j.at("drift_checks")) {
        s.drift_checks.push_back({c.at("trial").get<std::int64_t>(), c.at("z").get<double>(),
                                  c.at("shift").get<bool>()});
      }
    }
    if (j.contains("outliers")) s.outliers = j.at("outliers").get<std::vector<std::int64_t>>();
    if (j.contains("hyper")) s.hyper = hyper_from_json(j.at("hyper"));
    if (j.contains("warm_start")) {
      for (const json& w : j.at("warm_start"))
        s.warm_start.push_back(warm_start_source_from_json(w));
    }
    if (j.contains("transfer_weight")) s.transfer_weight = j.at("transfer_weight").get<double>();
    if (j.contains("prior_hyper")) {
      for (const json& h : j.at("prior_hyper")) s.prior_hyper.push_back(hyper_from_json(h));
    }
    if (j.contains("hyper_n")) s.hyper_n = j.at("hyper_n").get<std::int64_t>();
    if (j.contains("metric_hyper")) {
      for (const auto& [name, h] : j.at("metric_hyper").items()) {
        s.metric_hyper[name] = hyper_from_json(h);
      }
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
  if (hyper) j["hyper"] = hyper_to_json(*hyper);
  if (hyper && hyper_n > 0) j["hyper_n"] = hyper_n;
  if (!metric_hyper.empty()) {
    json m = json::object();
    for (const auto& [name, h] : metric_hyper) m[name] = hyper_to_json(h);
    j["metric_hyper"] = std::move(m);
  }
  if (!outliers.empty()) j["outliers"] = outliers;
  if (!drift_checks.empty()) {
    json d = json::array();
    for (const DriftCheck& c : drift_checks)
      d.push_back({{"trial", c.trial_id}, {"z", c.z}, {"shift", c.shift}});
    j["drift_checks"] = std::move(d);
  }
  if (!warm_start.empty()) {
    json w = json::array();
    for (const WarmStartSource& s : warm_start) w.push_back(warm_start_source_to_json(s));
    j["warm_start"] = std::move(w);
  }
  if (transfer_weight) j["transfer_weight"] = *transfer_weight;
  if (!prior_hyper.empty()) {
    json h = json::array();
    for (const GpHyperparameters& g : prior_hyper) h.push_back(hyper_to_json(g));
    j["prior_hyper"] = std::move(h);
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

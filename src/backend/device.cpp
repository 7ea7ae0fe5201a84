#include "gpbo/device.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include "backend/cuda_entry.hpp"
#include "common/text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  // Library logs go to stderr so that a CLI's --json stdout stays machine-readable.
  static auto log = [] {
    auto l = spdlog::get("gpbo");
    if (!l) l = spdlog::stderr_logger_mt("gpbo");
    // GPBO_LOG_LEVEL=debug (trace, info, warn, ...) shows more; the default is info.
    if (const char* level = std::getenv("GPBO_LOG_LEVEL")) {
      l->set_level(spdlog::level::from_str(level));
    }
    return l;
  }();
  return log;
}

}  // namespace

Device Device::parse(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "auto") return automatic();
  if (t == "cpu") return cpu();
  if (t == "cuda" || t == "gpu") return cuda(0);
  if (t.rfind("cuda:", 0) == 0 && t.size() > 5) {
    const std::string num = t.substr(5);
    bool digits = num.size() <= 6;
    for (char c : num) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) return cuda(std::stoi(num));
  }
  throw InvalidArgument("device '" + text + "': expected auto, cpu, cuda or cuda:N");
}

std::string Device::to_string() const {
  switch (kind_) {
    case Kind::kAuto:
      return "auto";
    case Kind::kCpu:
      return "cpu";
    case Kind::kCuda:
      return "cuda:" + std::to_string(ordinal_);
  }
  return "?";
}

int cuda_device_count() noexcept { return detail::cuda_device_count_impl(); }

Device resolve_device(const Device& requested) {
  switch (requested.kind()) {
    case Device::Kind::kCpu:
      return requested;
    case Device::Kind::kCuda: {
      if (!detail::cuda_backend_built()) {
        throw BackendUnavailable("device " + requested.to_string() +
                                 ": this build has no CUDA backend");
      }
      const int count = cuda_device_count();
      if (requested.ordinal() >= count) {
        throw BackendUnavailable("device " + requested.to_string() + ": " + std::to_string(count) +
                                 " CUDA device(s) visible");
      }
      return requested;
    }
    case Device::Kind::kAuto:
      break;
  }
  const bool gpu = detail::cuda_backend_built() && cuda_device_count() > 0;
  const Device chosen = gpu ? Device::cuda(0) : Device::cpu();
  static bool logged = false;  // one line per process, not one per study
  if (!logged) {
    logged = true;
    // Debug, not info: a CLI command's stderr is its error line alone (GPBO_LOG_LEVEL=debug
    // shows it).
    logger()->debug("device auto -> {} ({} CUDA device(s) visible{})", chosen.to_string(),
                    cuda_device_count(),
                    detail::cuda_backend_built() ? "" : ", CUDA backend not built");
  }
  return chosen;
}

}  // namespace gpbo

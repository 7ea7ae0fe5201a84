/// The hash chain of a study's log: the canonical form of an entry and its SHA-256.
#include <charconv>
#include <string>

#include "common/sha256.hpp"
#include "gpbo/storage.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {
namespace {

/// Appends one field as "<length in bytes>:<bytes>".
void field(std::string* out, std::string_view bytes) {
  *out += std::to_string(bytes.size());
  *out += ':';
  out->append(bytes.data(), bytes.size());
}

/// `x` with 17 significant digits (%.17g), exact for every double and locale-free.
std::string exact_text(double x) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 17);
  return std::string(buf, ec == std::errc() ? end : buf);
}

}  // namespace

std::string log_entry_hash(const std::string& study, const LogEntry& entry) {
  std::string form = "gpbo-log-v1";
  field(&form, study);
  field(&form, std::to_string(entry.seq));
  field(&form, exact_text(entry.time));
  field(&form, entry.event);
  field(&form, std::to_string(entry.trial_id));
  field(&form, entry.worker_id);
  field(&form, entry.detail_json);
  field(&form, entry.writer);
  field(&form, entry.prev_hash);
  return sha256_hex(form);
}

namespace storage_detail {

LogEntry chained_entry(const std::string& study, const LogEntry& entry, const LogEntry* previous) {
  LogEntry out = entry;
  out.seq = previous ? previous->seq + 1 : 0;
  out.prev_hash = previous ? previous->hash : "";
  out.hash = log_entry_hash(study, out);
  return out;
}

}  // namespace storage_detail
}  // namespace gpbo

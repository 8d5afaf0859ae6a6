#include "runtime/supervision/child_spec.hpp"

#include <cmath>
#include <set>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

/// Upper bound of durations added to the actor clock (keeps time_point
/// arithmetic far from overflow).
constexpr std::chrono::milliseconds max_delay = std::chrono::hours{24};

std::string quoted(std::string_view x) {
  std::string out = "'";
  out += x;
  out += "'";
  return out;
}

}  // namespace

const char* to_string(restart_type x) {
  switch (x) {
    case restart_type::permanent:
      return "permanent";
    case restart_type::transient:
      return "transient";
    case restart_type::temporary:
      return "temporary";
  }
  return "unknown";
}

const char* to_string(supervision_strategy x) {
  switch (x) {
    case supervision_strategy::one_for_one:
      return "one_for_one";
    case supervision_strategy::one_for_all:
      return "one_for_all";
    case supervision_strategy::rest_for_one:
      return "rest_for_one";
  }
  return "unknown";
}

caf::expected<restart_type> parse_restart_type(std::string_view text) {
  for (auto x : {restart_type::permanent, restart_type::transient, restart_type::temporary})
    if (text == to_string(x)) return x;
  return make_error(errc::bad_request, "restart",
                    quoted(text) + " is not one of permanent, transient, temporary");
}

caf::expected<supervision_strategy> parse_strategy(std::string_view text) {
  for (auto x : {supervision_strategy::one_for_one, supervision_strategy::one_for_all,
                 supervision_strategy::rest_for_one})
    if (text == to_string(x)) return x;
  return make_error(errc::bad_request, "strategy",
                    quoted(text) + " is not one of one_for_one, one_for_all, rest_for_one");
}

caf::expected<supervisor_flags> supervisor_flags::validated(supervisor_flags flags) {
  if (flags.intensity > 1000000)
    return make_error(errc::bad_request, "intensity",
                      "must be 0 to 1000000, got " + std::to_string(flags.intensity));
  if (flags.period < std::chrono::milliseconds{1})
    return make_error(errc::bad_request, "period",
                      "must be at least 1 ms, got " + std::to_string(flags.period.count()) + " ms");
  if (flags.backoff_min.count() < 0 || flags.backoff_min > max_delay)
    return make_error(
        errc::bad_request, "backoff_min",
        "must be 0 to 24 h, got " + std::to_string(flags.backoff_min.count()) + " ms");
  if (flags.backoff_max < flags.backoff_min || flags.backoff_max > max_delay)
    return make_error(errc::bad_request, "backoff_max",
                      "must be backoff_min (" + std::to_string(flags.backoff_min.count()) +
                          " ms) to 24 h, got " + std::to_string(flags.backoff_max.count()) + " ms");
  if (!(flags.backoff_random_factor >= 0 && flags.backoff_random_factor <= 1))
    return make_error(errc::bad_request, "backoff_random_factor",
                      "must be in [0, 1], got " + std::to_string(flags.backoff_random_factor));
  return flags;
}

caf::expected<void> check_child_specs(std::string_view supervisor_name,
                                      const std::vector<child_spec>& children) {
  auto where = " in supervisor " + quoted(supervisor_name);
  std::set<std::string_view> seen;
  for (size_t i = 0; i < children.size(); ++i) {
    const auto& c = children[i];
    if (c.id.empty())
      return make_error(errc::bad_request, "",
                        "child #" + std::to_string(i + 1) + where + " has an empty id");
    if (!seen.insert(c.id).second)
      return make_error(errc::bad_request, c.id, "duplicate child id " + quoted(c.id) + where);
    if (!c.start)
      return make_error(errc::bad_request, c.id,
                        "child " + quoted(c.id) + where + " has no start function");
    auto t = c.shutdown.timeout;
    if (!c.shutdown.brutal_kill && t != shutdown_spec::infinity && (t.count() < 0 || t > max_delay))
      return make_error(errc::bad_request, c.id,
                        "child " + quoted(c.id) + where +
                            ": shutdown timeout must be 0 to 24 h or infinity, got " +
                            std::to_string(t.count()) + " ms");
  }
  return caf::unit;
}

}  // namespace opea::runtime

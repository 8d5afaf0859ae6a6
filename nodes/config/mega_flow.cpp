#include "nodes/config/mega_flow.hpp"

#include <algorithm>
#include <cctype>

namespace opea::nodes {

namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// One group of a rule together with the column of each name, for error messages.
struct group {
  std::vector<std::string> names;
  std::vector<std::size_t> columns;
};

// Recursive-descent parser over one rule; stops at the first error.
class rule_parser {
 public:
  explicit rule_parser(std::string_view text) : text_(text) {}

  std::optional<flow_syntax_error> parse(std::vector<group>& groups) {
    skip_space();
    if (at_end()) return error_at(pos_, "empty flow");
    for (;;) {
      group g;
      if (auto err = parse_group(g)) return err;
      groups.push_back(std::move(g));
      skip_space();
      if (at_end()) return std::nullopt;
      if (text_.compare(pos_, 2, ">>") != 0) return error_at(pos_, "expected '>>'");
      pos_ += 2;
    }
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }

  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  flow_syntax_error error_at(std::size_t pos, const std::string& what) const {
    flow_syntax_error err;
    err.column = pos + 1;
    err.message = what + " at column " + std::to_string(err.column);
    if (pos >= text_.size()) err.message += " (end of flow)";
    return err;
  }

  std::optional<flow_syntax_error> parse_name(group& g) {
    skip_space();
    std::size_t start = pos_;
    while (!at_end() && is_name_char(text_[pos_])) ++pos_;
    if (pos_ == start) return error_at(start, "expected a service name");
    std::string name(text_.substr(start, pos_ - start));
    if (std::find(g.names.begin(), g.names.end(), name) != g.names.end()) {
      return error_at(start, "service \"" + name + "\" appears twice in one group");
    }
    g.names.push_back(std::move(name));
    g.columns.push_back(start + 1);
    return std::nullopt;
  }

  std::optional<flow_syntax_error> parse_group(group& g) {
    skip_space();
    if (at_end() || text_[pos_] != '(') return parse_name(g);
    ++pos_;
    for (;;) {
      if (auto err = parse_name(g)) return err;
      skip_space();
      if (!at_end() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (!at_end() && text_[pos_] == ')') {
        ++pos_;
        return std::nullopt;
      }
      return error_at(pos_, "expected ',' or ')'");
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

bool is_valid_service_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
}

std::optional<flow_syntax_error> parse_mega_flow(std::string_view rule, flow_graph& graph) {
  std::vector<group> groups;
  if (auto err = rule_parser(rule).parse(groups)) return err;
  // Check self-loops before touching `graph`, so a bad rule leaves it unchanged.
  for (std::size_t i = 1; i < groups.size(); ++i) {
    for (const auto& from : groups[i - 1].names) {
      for (std::size_t j = 0; j < groups[i].names.size(); ++j) {
        if (from == groups[i].names[j]) {
          flow_syntax_error err;
          err.column = groups[i].columns[j];
          err.message = "self-loop \"" + from + "\" >> \"" + from + "\" at column " +
                        std::to_string(err.column);
          return err;
        }
      }
    }
  }
  for (const auto& g : groups) {
    for (const auto& name : g.names) {
      if (std::find(graph.nodes.begin(), graph.nodes.end(), name) == graph.nodes.end()) {
        graph.nodes.push_back(name);
      }
    }
  }
  for (std::size_t i = 1; i < groups.size(); ++i) {
    for (const auto& from : groups[i - 1].names) {
      for (const auto& to : groups[i].names) {
        flow_edge edge{from, to};
        if (std::find(graph.edges.begin(), graph.edges.end(), edge) == graph.edges.end()) {
          graph.edges.push_back(std::move(edge));
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace opea::nodes

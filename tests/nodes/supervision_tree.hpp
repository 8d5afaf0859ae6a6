#pragma once

// Reading a node's supervision tree in tests: a supervisor's children, and
// one child by id.

#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "runtime/errors.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace opea::test {

/// `sup`'s children in start order (which_children); FAILs on an error.
inline std::vector<runtime::child_info> children_of(caf::actor_system& sys,
                                                    const runtime::supervisor_handle& sup) {
  caf::scoped_actor self{sys};
  std::vector<runtime::child_info> out;
  self->request(sup, caf::infinite, runtime::which_children_atom::value)
      .receive([&](std::vector<runtime::child_info>& xs) { out = std::move(xs); },
               [](caf::error& err) { FAIL(runtime::describe(err)); });
  return out;
}

/// The child `id` of `xs`; FAILs if there is none.
inline const runtime::child_info& child(const std::vector<runtime::child_info>& xs,
                                        const std::string& id) {
  for (const auto& x : xs)
    if (x.id == id) return x;
  FAIL("no child " << id);
  throw std::logic_error{"unreachable"};
}

}  // namespace opea::test

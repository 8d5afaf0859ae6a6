#pragma once

#include <memory>

#include "nodes/application.hpp"

namespace opea::nodes {

/// The ChatQnA application: a megaservice with `api: chatqna` gets
/// ChatQnA's align hooks (`set_chatqna_hooks`) and is served with OPEA's
/// ChatQnA API on its `route` and OpenAI's chat completions on its
/// `openai_route` (`chatqna_handler`).
std::unique_ptr<application> make_chatqna_app();

}  // namespace opea::nodes

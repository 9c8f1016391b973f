//! Poseidon 0.18's endpoint state machine as an explicit table.
//!
//! States `unknown`, `queued`, `operating` (mirrored and captured), `known`; triggers
//! `operate`, `queue`, `known`, `unknown`. Any other (trigger, state) pair is refused, as
//! `transitions` refuses it in Poseidon. Ignoring is a flag beside the state, not a state:
//! an ignored endpoint keeps its state and is never scheduled.

use serde::{Deserialize, Serialize};

/// Where an endpoint is in its investigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Seen, not classified (or its classification is stale).
    Unknown,
    /// Waiting for a mirror slot.
    Queued,
    /// Mirrored and being captured.
    Operating,
    /// Classified with confidence; re-checked on a schedule.
    Known,
}

/// What moves an endpoint between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Mirror and capture it.
    Operate,
    /// Wait for a slot.
    Queue,
    /// Classified.
    Known,
    /// Back to the start.
    Unknown,
}

/// Every state.
pub const STATES: [State; 4] = [
    State::Unknown,
    State::Queued,
    State::Operating,
    State::Known,
];
/// Every trigger.
pub const TRIGGERS: [Trigger; 4] = [
    Trigger::Operate,
    Trigger::Queue,
    Trigger::Known,
    Trigger::Unknown,
];

/// The transition table: (trigger, from states, to state), Poseidon 0.18's exactly.
pub const TRANSITIONS: &[(Trigger, &[State], State)] = &[
    (
        Trigger::Operate,
        &[State::Unknown, State::Known, State::Queued],
        State::Operating,
    ),
    (
        Trigger::Queue,
        &[State::Unknown, State::Known],
        State::Queued,
    ),
    (Trigger::Known, &STATES, State::Known),
    (Trigger::Unknown, &STATES, State::Unknown),
];

/// The state `trigger` leads to from `from`, or `None` if the table has no such edge.
#[must_use]
pub fn next(from: State, trigger: Trigger) -> Option<State> {
    TRANSITIONS
        .iter()
        .find(|(t, froms, _)| *t == trigger && froms.contains(&from))
        .map(|(_, _, to)| *to)
}

impl State {
    /// The lower-case name Poseidon uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Queued => "queued",
            State::Operating => "operating",
            State::Known => "known",
        }
    }
    /// Parses a lower-case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<State> {
        STATES.into_iter().find(|st| st.as_str() == s)
    }
}

impl Trigger {
    /// The lower-case name Poseidon uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Operate => "operate",
            Trigger::Queue => "queue",
            Trigger::Known => "known",
            Trigger::Unknown => "unknown",
        }
    }
    /// Parses a trigger name; the state names `operating`/`queued` are accepted too, as
    /// Poseidon's `task set` users type them.
    #[must_use]
    pub fn parse(s: &str) -> Option<Trigger> {
        match s {
            "operate" | "operating" => Some(Trigger::Operate),
            "queue" | "queued" => Some(Trigger::Queue),
            "known" => Some(Trigger::Known),
            "unknown" => Some(Trigger::Unknown),
            _ => None,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poseidon_table() {
        use State::*;
        assert_eq!(next(Unknown, Trigger::Operate), Some(Operating));
        assert_eq!(next(Queued, Trigger::Operate), Some(Operating));
        assert_eq!(next(Known, Trigger::Operate), Some(Operating));
        assert_eq!(next(Operating, Trigger::Operate), None);
        assert_eq!(next(Queued, Trigger::Queue), None);
        assert_eq!(next(Operating, Trigger::Queue), None);
        for s in STATES {
            assert_eq!(next(s, Trigger::Known), Some(Known));
            assert_eq!(next(s, Trigger::Unknown), Some(Unknown));
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        for t in TRIGGERS {
            assert_eq!(Trigger::parse(t.as_str()), Some(t));
        }
    }
}

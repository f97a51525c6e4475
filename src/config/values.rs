//! Parsing the values users write: on the command line, in the environment
//! and in `roadmap-runner.toml`, with messages that say what to write.

use super::parse_duration;
use serde::Deserialize;
use serde::de::Error as _;
use std::time::Duration;

/// `--max-parallel` / `MAX_PARALLEL_AGENTS`: a whole number, at least 1.
pub fn parse_max_parallel(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("at least 1 agent must run: write 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "`{text}` is not a number of agents: write a whole number, e.g. 4"
        )),
    }
}

/// `--timeout` / `TASK_TIMEOUT`: a duration that is more than zero.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err("the time limit must be more than zero, e.g. `90`, `90s`, `30m`, `2h`".into());
    }
    Ok(d)
}

/// A whole number in the file, also when written in quotes (`"2"`): a
/// number in quotes is a common slip and means what it says.
pub fn number_or_quoted<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    let raw =
        Raw::deserialize(d).map_err(|_| D::Error::custom("expected a whole number, e.g. 2"))?;
    let n = match &raw {
        Raw::Int(i) => u64::try_from(*i).ok(),
        Raw::Text(t) => t.trim().parse::<u64>().ok(),
    };
    match n.and_then(|n| T::try_from(n).ok()) {
        Some(v) => Ok(Some(v)),
        None => Err(D::Error::custom(match raw {
            Raw::Int(i) => format!("{i} is out of range: write a whole number of 0 or more"),
            Raw::Text(t) => {
                format!("\"{t}\" is not a whole number: write one without quotes, e.g. 2")
            }
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_parallel() {
        assert_eq!(parse_max_parallel("3"), Ok(3));
        assert_eq!(parse_max_parallel(" 3 "), Ok(3));
        assert!(parse_max_parallel("0").unwrap_err().contains("at least 1"));
        assert!(
            parse_max_parallel("abc")
                .unwrap_err()
                .contains("`abc` is not a number")
        );
    }

    #[test]
    fn timeout() {
        assert_eq!(parse_timeout("90"), Ok(Duration::from_secs(90)));
        assert!(parse_timeout("0").unwrap_err().contains("more than zero"));
        let bad = parse_timeout("10x").unwrap_err();
        assert_eq!(
            bad,
            "`10x` is not a duration: write seconds (`90`) or `90s`, `30m`, `2h`"
        );
    }
}

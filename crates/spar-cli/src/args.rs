//! A small flag parser: `--name value` and `--flag`, positional arguments, and errors that
//! name the offending flag.

use std::collections::BTreeMap;

/// Parsed command-line arguments.
pub struct Args {
    values: BTreeMap<String, String>,
    flags: Vec<String>,
    /// Arguments that are not flags.
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `argv`; `valued` lists the flags that take a value, `switches` those that do not.
    pub fn parse(argv: &[String], valued: &[&str], switches: &[&str]) -> Result<Self, String> {
        let mut values = BTreeMap::new();
        let mut flags = Vec::new();
        let mut positional = Vec::new();
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                if valued.contains(&name) {
                    let v = it
                        .next()
                        .ok_or_else(|| format!("`--{name}` needs a value"))?;
                    values.insert(name.to_string(), v.clone());
                } else if switches.contains(&name) {
                    flags.push(name.to_string());
                } else {
                    return Err(format!("unknown option `--{name}`"));
                }
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Self {
            values,
            flags,
            positional,
        })
    }

    /// The value of `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|s| s.as_str())
    }

    /// The value of `--name` parsed as `T`, if given.
    pub fn parse_value<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("`--{name} {v}` is not a valid value")),
        }
    }

    /// Whether `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

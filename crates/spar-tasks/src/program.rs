//! A tiny functional language for proposer–solver self-play: one function `f` of one
//! argument `x`, over integers and lists of integers.
//!
//! ```text
//! expr  := 'if' expr 'then' expr 'else' expr | cmp
//! cmp   := add (('<' | '>' | '==') add)?
//! add   := mul (('+' | '-' | '++') mul)*
//! mul   := unary (('*' | '/' | '%') unary)*
//! unary := '-' unary | atom
//! atom  := INT | 'x' | '[' (expr (',' expr)*)? ']' | '(' expr ')' | NAME '(' expr ')'
//! NAME  := f | len | sum | rev | sort | head | tail | range | max | min
//! ```
//! `f(e)` calls the program itself (recursion). Semantics are in [`crate::interpreter`].
//! The parser never panics: sources over 1000 bytes or nested deeper than 64 are rejected.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

/// Longest accepted source text, in bytes.
pub const MAX_SOURCE_LEN: usize = 1000;
/// Deepest accepted nesting of sub-expressions.
pub const MAX_NESTING: usize = 64;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// Integer `+`.
    Add,
    /// Integer `-`.
    Sub,
    /// Integer `*`.
    Mul,
    /// Integer floor division `/` (Euclidean).
    Div,
    /// Integer remainder `%` (Euclidean, never negative).
    Rem,
    /// List concatenation `++`.
    Concat,
    /// `<` on integers (1 or 0).
    Lt,
    /// `>` on integers (1 or 0).
    Gt,
    /// `==` on integers or lists (1 or 0).
    Eq,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "++",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Eq => "==",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinOp::Lt | BinOp::Gt | BinOp::Eq => 1,
            BinOp::Add | BinOp::Sub | BinOp::Concat => 2,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 3,
        }
    }
}

/// A built-in function of one argument (or the program itself, `f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Recursive call of the program.
    F,
    /// Length of a list.
    Len,
    /// Sum of a list.
    Sum,
    /// Reversed list.
    Rev,
    /// Sorted list (ascending).
    Sort,
    /// First element of a non-empty list.
    Head,
    /// All but the first element of a non-empty list.
    Tail,
    /// `[0, 1, …, n−1]` (empty for `n ≤ 0`).
    Range,
    /// Largest element of a non-empty list.
    Max,
    /// Smallest element of a non-empty list.
    Min,
}

const BUILTINS: [(&str, Builtin); 10] = [
    ("f", Builtin::F),
    ("len", Builtin::Len),
    ("sum", Builtin::Sum),
    ("rev", Builtin::Rev),
    ("sort", Builtin::Sort),
    ("head", Builtin::Head),
    ("tail", Builtin::Tail),
    ("range", Builtin::Range),
    ("max", Builtin::Max),
    ("min", Builtin::Min),
];

impl Builtin {
    /// The builtin's name in source text.
    pub fn name(self) -> &'static str {
        BUILTINS
            .iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .unwrap_or("f")
    }
}

/// An expression of the language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// Integer literal.
    Int(i64),
    /// The argument `x`.
    Var,
    /// List literal `[e, …]` (elements must evaluate to integers).
    List(Vec<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `l op r`.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `name(e)`.
    Call(Builtin, Box<Expr>),
    /// `if c then a else b` (`c` an integer, non-zero is true).
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// A program: the body of `f(x)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Program {
    /// The body.
    pub body: Expr,
}

/// Why a source text is not a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Longer than [`MAX_SOURCE_LEN`].
    TooLong,
    /// Nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// An unexpected character or token at this byte offset.
    Unexpected(usize),
    /// An identifier that is neither `x`, a keyword nor a builtin.
    UnknownName(usize),
    /// An integer literal that does not fit in `i64`.
    IntegerTooLarge(usize),
    /// Input ended early.
    UnexpectedEnd,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "program longer than {MAX_SOURCE_LEN} bytes"),
            ParseError::TooDeep => write!(f, "program nested deeper than {MAX_NESTING}"),
            ParseError::Unexpected(at) => write!(f, "unexpected input at byte {at}"),
            ParseError::UnknownName(at) => write!(f, "unknown name at byte {at}"),
            ParseError::IntegerTooLarge(at) => write!(f, "integer too large at byte {at}"),
            ParseError::UnexpectedEnd => write!(f, "unexpected end of program"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Int(i64),
    Var,
    If,
    Then,
    Else,
    Name(Builtin),
    Op(BinOp),
    Minus,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let mut v: i64 = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                v = v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(i64::from(b[i] - b'0')))
                    .ok_or(ParseError::IntegerTooLarge(start))?;
                i += 1;
            }
            out.push((Tok::Int(v), start));
            continue;
        }
        if c.is_ascii_alphabetic() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            let tok = match word {
                "x" => Tok::Var,
                "if" => Tok::If,
                "then" => Tok::Then,
                "else" => Tok::Else,
                _ => match BUILTINS.iter().find(|(n, _)| *n == word) {
                    Some((_, bi)) => Tok::Name(*bi),
                    None => return Err(ParseError::UnknownName(start)),
                },
            };
            out.push((tok, start));
            continue;
        }
        let two = b.get(i + 1).copied();
        let (tok, len) = match (c, two) {
            (b'+', Some(b'+')) => (Tok::Op(BinOp::Concat), 2),
            (b'=', Some(b'=')) => (Tok::Op(BinOp::Eq), 2),
            (b'+', _) => (Tok::Op(BinOp::Add), 1),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', _) => (Tok::Op(BinOp::Mul), 1),
            (b'/', _) => (Tok::Op(BinOp::Div), 1),
            (b'%', _) => (Tok::Op(BinOp::Rem), 1),
            (b'<', _) => (Tok::Op(BinOp::Lt), 1),
            (b'>', _) => (Tok::Op(BinOp::Gt), 1),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            _ => return Err(ParseError::Unexpected(start)),
        };
        out.push((tok, start));
        i += len;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).map(|t| t.0)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.1)
    }

    fn expect(&mut self, tok: Tok) -> Result<(), ParseError> {
        match self.peek() {
            Some(t) if t == tok => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(ParseError::Unexpected(self.here())),
            None => Err(ParseError::UnexpectedEnd),
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_NESTING {
            return Err(ParseError::TooDeep);
        }
        if self.peek() == Some(Tok::If) {
            self.pos += 1;
            let c = self.expr(depth + 1)?;
            self.expect(Tok::Then)?;
            let a = self.expr(depth + 1)?;
            self.expect(Tok::Else)?;
            let b = self.expr(depth + 1)?;
            return Ok(Expr::If(Box::new(c), Box::new(a), Box::new(b)));
        }
        let left = self.binary(2, depth)?;
        if let Some(Tok::Op(op @ (BinOp::Lt | BinOp::Gt | BinOp::Eq))) = self.peek() {
            self.pos += 1;
            let right = self.binary(2, depth)?;
            return Ok(Expr::Bin(op, Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    /// Left-associative binary operators of precedence `prec` (2: additive, 3: multiplicative).
    fn binary(&mut self, prec: u8, depth: usize) -> Result<Expr, ParseError> {
        let mut left = if prec == 3 {
            self.unary(depth)?
        } else {
            self.binary(3, depth)?
        };
        loop {
            let op = match self.peek() {
                Some(Tok::Op(op)) if op.precedence() == prec => op,
                Some(Tok::Minus) if prec == 2 => BinOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = if prec == 3 {
                self.unary(depth)?
            } else {
                self.binary(3, depth)?
            };
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_NESTING {
            return Err(ParseError::TooDeep);
        }
        if self.peek() == Some(Tok::Minus) {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary(depth + 1)?)));
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let at = self.here();
        let tok = self.peek().ok_or(ParseError::UnexpectedEnd)?;
        self.pos += 1;
        match tok {
            Tok::Int(v) => Ok(Expr::Int(v)),
            Tok::Var => Ok(Expr::Var),
            Tok::LParen => {
                let e = self.expr(depth + 1)?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Tok::LBracket => {
                let mut items = Vec::new();
                if self.peek() == Some(Tok::RBracket) {
                    self.pos += 1;
                    return Ok(Expr::List(items));
                }
                loop {
                    items.push(self.expr(depth + 1)?);
                    match self.peek() {
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::RBracket) => {
                            self.pos += 1;
                            return Ok(Expr::List(items));
                        }
                        Some(_) => return Err(ParseError::Unexpected(self.here())),
                        None => return Err(ParseError::UnexpectedEnd),
                    }
                }
            }
            Tok::Name(b) => {
                self.expect(Tok::LParen)?;
                let arg = self.expr(depth + 1)?;
                self.expect(Tok::RParen)?;
                Ok(Expr::Call(b, Box::new(arg)))
            }
            _ => Err(ParseError::Unexpected(at)),
        }
    }
}

impl Program {
    /// Parse a program body, e.g. `"if x<1 then 0 else x+f(x-1)"`.
    ///
    /// ```
    /// use spar_tasks::Program;
    /// let p = Program::parse("rev( x ) ++ [ 1 , (2) ]").unwrap();
    /// assert_eq!(p.to_string(), "rev(x)++[1,2]");
    /// assert!(Program::parse("rev(").is_err());
    /// ```
    pub fn parse(src: &str) -> Result<Program, ParseError> {
        if src.len() > MAX_SOURCE_LEN {
            return Err(ParseError::TooLong);
        }
        let toks = lex(src)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: src.len(),
        };
        let body = p.expr(0)?;
        if p.pos != p.toks.len() {
            return Err(ParseError::Unexpected(p.here()));
        }
        Ok(Program { body })
    }

    /// Whether the body mentions `x` at all.
    pub fn uses_input(&self) -> bool {
        fn walk(e: &Expr) -> bool {
            match e {
                Expr::Int(_) => false,
                Expr::Var => true,
                Expr::List(items) => items.iter().any(walk),
                Expr::Neg(a) | Expr::Call(_, a) => walk(a),
                Expr::Bin(_, a, b) => walk(a) || walk(b),
                Expr::If(c, a, b) => walk(c) || walk(a) || walk(b),
            }
        }
        walk(&self.body)
    }
}

/// Precedence of an expression for printing: if 0, comparisons 1, additive 2,
/// multiplicative 3, unary minus 4, atoms 5.
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::If(..) => 0,
        Expr::Bin(op, ..) => op.precedence(),
        Expr::Neg(_) => 4,
        // A negative literal prints with its minus sign, so it binds like unary minus.
        Expr::Int(v) if *v < 0 => 4,
        _ => 5,
    }
}

fn write_expr(e: &Expr, f: &mut fmt::Formatter<'_>, min_prec: u8) -> fmt::Result {
    let wrap = precedence(e) < min_prec;
    if wrap {
        f.write_str("(")?;
    }
    match e {
        Expr::Int(v) => write!(f, "{v}")?,
        Expr::Var => f.write_str("x")?,
        Expr::List(items) => {
            f.write_str("[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write_expr(item, f, 0)?;
            }
            f.write_str("]")?;
        }
        Expr::Neg(a) => {
            f.write_str("-")?;
            write_expr(a, f, 4)?;
        }
        Expr::Bin(op, a, b) => {
            let p = op.precedence();
            // Comparisons do not chain: both sides must bind tighter.
            let left_min = if p == 1 { 2 } else { p };
            write_expr(a, f, left_min)?;
            f.write_str(op.symbol())?;
            // `a--b` lexes as `a - (-b)` (there is no `--` token), so no space is needed.
            write_expr(b, f, p + 1)?;
        }
        Expr::Call(bi, a) => {
            write!(f, "{}(", bi.name())?;
            write_expr(a, f, 0)?;
            f.write_str(")")?;
        }
        Expr::If(c, a, b) => {
            f.write_str("if ")?;
            write_expr(c, f, 0)?;
            f.write_str(" then ")?;
            write_expr(a, f, 0)?;
            f.write_str(" else ")?;
            write_expr(b, f, 0)?;
        }
    }
    if wrap {
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    /// Canonical text: no spaces except around keywords, only needed brackets; re-parses
    /// to the same tree (as long as it is within [`MAX_SOURCE_LEN`]: the single spaces
    /// around keywords can make it a few bytes longer than a source that omitted them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(self, f, 0)
    }
}

impl fmt::Display for Program {
    /// The body's canonical text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.body.fmt(f)
    }
}

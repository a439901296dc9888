//! Money: integer minor units inside, the seed's decimal numbers outside.

use crate::error::FieldError;
use serde_json::Value;

/// An ISO 4217 currency Sellvy accepts, with its number of decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

/// The currencies Sellvy can price in: code and number of minor-unit decimals (ISO 4217).
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    pub const USD: Currency = Currency { code: "USD", exponent: 2 };

    /// Parses a currency code, case-insensitively (`usd` is `USD`).
    pub fn parse(code: &str) -> Option<Currency> {
        let upper = code.to_ascii_uppercase();
        CURRENCIES.iter().find(|(c, _)| *c == upper).map(|&(code, exponent)| Currency { code, exponent })
    }
    pub fn code(self) -> &'static str {
        self.code
    }
    pub fn exponent(self) -> u32 {
        self.exponent
    }
}

/// The largest amount Sellvy stores, in major units: far above any real price, far below where
/// a JSON number stops being exact.
pub const MAX_MAJOR_UNITS: i64 = 1_000_000_000;

/// An amount of money in a currency, held as integer minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Reads a non-negative amount given as a JSON number (`29.99`) or a numeric string
    /// (`"29.99"`). More decimals than the currency has is an error, as is anything negative,
    /// non-numeric or absurdly large.
    pub fn parse(field: &str, value: &Value, currency: Currency) -> Result<Money, FieldError> {
        let minor = parse_minor(field, value, currency.exponent, currency.code)?;
        Ok(Money { minor, currency })
    }

    /// [`Money::parse`] of a request's decimal text.
    pub fn parse_decimal(field: &str, text: &str, currency: Currency) -> Result<Money, FieldError> {
        let minor = parse_minor_text(field, text, currency.exponent, currency.code)?;
        Ok(Money { minor, currency })
    }

    /// The seed's decimal number: 2999 cents of USD is `29.99`.
    pub fn to_json(self) -> Value {
        // The very serialization responses use (whole amounts print without `.0`).
        serde_json::to_value(crate::wire::Amount::from_minor(self.minor, self.currency.exponent))
            .unwrap_or(Value::Null)
    }

    /// The exact decimal text (`"29.99"`, `"5.00"`, `"1200"`), for places that need a string.
    pub fn to_decimal_string(self) -> String {
        minor_to_string(self.minor, self.currency)
    }
}

/// Reads a non-negative decimal (a JSON number or numeric string) with at most `exponent`
/// decimals as an integer count of its smallest unit. `unit` names the unit in the error
/// about decimals (`USD allows at most 2 decimal places`).
pub fn parse_minor(field: &str, value: &Value, exponent: u32, unit: &str) -> Result<i64, FieldError> {
    let text = match value {
        // serde_json prints an f64 in its shortest round-trip form: 29.99 -> "29.99".
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(FieldError::new(field, "must be a number or a numeric string")),
    };
    parse_minor_text(field, &text, exponent, unit)
}

/// [`parse_minor`] of decimal text (a request's [`crate::wire::Decimal`]).
pub fn parse_minor_text(field: &str, text: &str, exponent: u32, unit: &str) -> Result<i64, FieldError> {
    parse_decimal(text.trim(), exponent).map_err(|why| {
        FieldError::new(
            field,
            match why {
                DecimalError::NotANumber => "must be a number or a numeric string".to_string(),
                DecimalError::Negative => "must not be negative".to_string(),
                DecimalError::TooManyDecimals => match exponent {
                    0 => format!("{unit} has no minor unit: use a whole number"),
                    n => format!("{unit} allows at most {n} decimal places"),
                },
                DecimalError::TooLarge => format!("must be less than {MAX_MAJOR_UNITS}"),
            },
        )
    })
}

pub fn minor_to_string(minor: i64, currency: Currency) -> String {
    let e = currency.exponent as usize;
    if e == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(currency.exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:0e$}", m / scale as u64, m % scale as u64)
}

#[derive(Debug, PartialEq, Eq)]
enum DecimalError {
    NotANumber,
    Negative,
    TooManyDecimals,
    TooLarge,
}

/// Exact decimal -> minor units. Accepts `12`, `12.5`, `12.50`, `.5`, `12.` and the exponent
/// forms serde_json prints (`1e2`, `1.5e-7`).
fn parse_decimal(text: &str, exponent: u32) -> Result<i64, DecimalError> {
    let (mantissa, exp10) = match text.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = text[i + 1..].parse().map_err(|_| DecimalError::NotANumber)?;
            (&text[..i], e)
        }
        None => (text, 0),
    };
    if let Some(rest) = mantissa.strip_prefix('-') {
        let zero = !rest.is_empty() && rest.chars().all(|c| c == '0' || c == '.');
        return if zero { Ok(0) } else { Err(DecimalError::Negative) };
    }
    let mantissa = mantissa.strip_prefix('+').unwrap_or(mantissa);
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DecimalError::NotANumber);
    }
    // All digits as one integer, with the decimal point `point` places from the right.
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let point = frac_part.len() as i64 - exp10 as i64;
    // Trailing zeros after the point carry no value (29.990 is 29.99).
    let mut digits = digits.to_string();
    let mut point = point;
    while point > 0 && digits.ends_with('0') {
        digits.pop();
        point -= 1;
    }
    if digits.is_empty() {
        return Ok(0);
    }
    if point > exponent as i64 {
        return Err(DecimalError::TooManyDecimals);
    }
    let shift = exponent as i64 - point; // zeros to append to reach minor units
    if digits.len() as i64 + shift > 18 {
        return Err(DecimalError::TooLarge);
    }
    let mut minor: i64 = digits.parse().map_err(|_| DecimalError::TooLarge)?;
    for _ in 0..shift {
        minor *= 10;
    }
    if minor >= MAX_MAJOR_UNITS * 10i64.pow(exponent) {
        return Err(DecimalError::TooLarge);
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn usd(v: Value) -> Result<i64, FieldError> {
        Money::parse("price", &v, Currency::USD).map(|m| m.minor)
    }

    #[test]
    fn parses_numbers_and_numeric_strings_exactly() {
        assert_eq!(usd(json!(29.99)), Ok(2999));
        assert_eq!(usd(json!("29.99")), Ok(2999));
        assert_eq!(usd(json!(0.1)), Ok(10));
        assert_eq!(usd(json!(5)), Ok(500));
        assert_eq!(usd(json!("5.00")), Ok(500));
        assert_eq!(usd(json!(" 7.5 ")), Ok(750));
        assert_eq!(usd(json!(1e2)), Ok(10000));
        assert_eq!(usd(json!(0)), Ok(0));
        assert_eq!(usd(json!("29.990")), Ok(2999));
        assert_eq!(usd(json!(999999999.99)), Ok(99999999999));
    }

    #[test]
    fn rejects_what_is_not_a_price() {
        assert!(usd(json!(29.999)).unwrap_err().message.contains("at most 2 decimal"));
        assert!(usd(json!(-1)).unwrap_err().message.contains("negative"));
        assert!(usd(json!("abc")).is_err());
        assert!(usd(json!("")).is_err());
        assert!(usd(json!(".")).is_err());
        assert!(usd(json!("1.2.3")).is_err());
        assert!(usd(json!(true)).is_err());
        assert!(usd(json!(null)).is_err());
        assert!(usd(json!(1e300)).unwrap_err().message.contains("less than"));
        assert!(usd(json!(1000000000)).is_err());
        let jpy = Currency::parse("jpy").unwrap();
        assert!(Money::parse("price", &json!(10.5), jpy).unwrap_err().message.contains("no minor"));
        assert_eq!(Money::parse("price", &json!(1200), jpy).unwrap().minor, 1200);
    }

    #[test]
    fn prints_the_seeds_decimal_numbers() {
        for (minor, shown) in [(2999, "29.99"), (500, "5"), (1, "0.01"), (99999999999, "999999999.99")] {
            let m = Money { minor, currency: Currency::USD };
            assert_eq!(m.to_json().to_string(), shown);
        }
        let m = Money { minor: 500, currency: Currency::USD };
        assert_eq!(m.to_decimal_string(), "5.00");
    }

    #[test]
    fn every_cent_round_trips_through_json() {
        for minor in (0..200_000).chain(99_999_999_000..99_999_999_999) {
            let m = Money { minor, currency: Currency::USD };
            let text = m.to_json().to_string();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(usd(back), Ok(minor), "{minor} printed as {text}");
        }
    }
}

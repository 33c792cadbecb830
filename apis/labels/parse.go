package labels

import (
	"fmt"
	"strconv"
	"strings"
)

// tokenKind classifies a lexeme of the selector syntax.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokIn    // the word "in"
	tokNotIn // the word "notin"
	tokEq    // =
	tokDEq   // ==
	tokNEq   // !=
	tokBang  // !
	tokLParen
	tokRParen
	tokComma
	tokGt // > (Kubernetes' numeric comparison; not supported here)
	tokLt // <
)

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset in the input
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokIdent:
		return "identifier " + strconv.Quote(t.text)
	default:
		return strconv.Quote(t.text)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isSpecial(c byte) bool {
	switch c {
	case '=', '!', '(', ')', ',', '>', '<':
		return true
	}
	return false
}

// lex splits s into tokens; it cannot fail, bad input shows up as unexpected tokens.
func lex(s string) []token {
	toks := make([]token, 0, len(s)/2+2) // typical selectors have fewer tokens than half their bytes
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '=' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, token{tokDEq, "==", i})
			i += 2
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, token{tokNEq, "!=", i})
			i += 2
		case isSpecial(c):
			toks = append(toks, token{specialKind(c), s[i : i+1], i})
			i++
		default:
			start := i
			for i < len(s) && !isSpace(s[i]) && !isSpecial(s[i]) {
				i++
			}
			word := s[start:i]
			k := tokIdent
			switch word {
			case "in":
				k = tokIn
			case "notin":
				k = tokNotIn
			}
			toks = append(toks, token{k, word, start})
		}
	}
	return append(toks, token{tokEOF, "", len(s)})
}

func specialKind(c byte) tokenKind {
	switch c {
	case '=':
		return tokEq
	case '!':
		return tokBang
	case '(':
		return tokLParen
	case ')':
		return tokRParen
	case ',':
		return tokComma
	case '>':
		return tokGt
	default:
		return tokLt
	}
}

type parser struct {
	input string
	toks  []token
	i     int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(at token, format string, args ...any) error {
	return fmt.Errorf("%w: %q: at byte %d: %s", ErrInvalidSelector, p.input, at.pos, fmt.Sprintf(format, args...))
}

// isWord reports whether t can stand for a key or value: an identifier, or
// a keyword used as a plain word (`in=notin` is key "in", value "notin").
func isWord(t token) bool { return t.kind == tokIdent || t.kind == tokIn || t.kind == tokNotIn }

// Parse parses a label selector in Kubernetes' syntax: comma-separated
// requirements that must all hold, each one of
//
//	key=value  key==value  key!=value  key in (v1,v2)  key notin (v1)  key  !key
//
// Keys must be qualified names and values valid label values. The empty
// string (or only whitespace) is Everything. Errors wrap ErrInvalidSelector
// and name the byte offset and the token at fault.
func Parse(s string) (Selector, error) {
	p := &parser{input: s, toks: lex(s)}
	if p.peek().kind == tokEOF {
		return Everything(), nil
	}
	var reqs []Requirement
	for {
		r, err := p.requirement()
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
		switch t := p.next(); t.kind {
		case tokEOF:
			return ownedSelector(reqs), nil
		case tokComma:
			if p.peek().kind == tokEOF {
				return nil, p.errorf(p.peek(), "expected a requirement after ',', found end of input")
			}
		default:
			return nil, p.errorf(t, "expected ',' or end of input, found %s", t.describe())
		}
	}
}

func (p *parser) requirement() (Requirement, error) {
	t := p.next()
	if t.kind == tokBang {
		k := p.next()
		if !isWord(k) {
			return Requirement{}, p.errorf(k, "expected a key after '!', found %s", k.describe())
		}
		return p.build(k, DoesNotExist, nil)
	}
	if !isWord(t) {
		return Requirement{}, p.errorf(t, "expected a key or '!', found %s", t.describe())
	}
	key := t
	op := p.next()
	switch op.kind {
	case tokEOF:
		return p.build(key, Exists, nil)
	case tokComma:
		p.i-- // the caller consumes the separator
		return p.build(key, Exists, nil)
	case tokEq, tokDEq, tokNEq:
		value := ""
		switch v := p.peek(); {
		case isWord(v):
			value = p.next().text
		case v.kind == tokEOF || v.kind == tokComma:
			// `key=` requires the empty value
		default:
			return Requirement{}, p.errorf(v, "expected a value after %q, found %s", op.text, v.describe())
		}
		o := Equals
		if op.kind == tokNEq {
			o = NotEquals
		}
		return p.build(key, o, []string{value})
	case tokIn, tokNotIn:
		values, err := p.valueList(op)
		if err != nil {
			return Requirement{}, err
		}
		o := In
		if op.kind == tokNotIn {
			o = NotIn
		}
		return p.build(key, o, values)
	case tokGt, tokLt:
		return Requirement{}, p.errorf(op, "operator %q is not supported", op.text)
	default:
		return Requirement{}, p.errorf(op, "expected an operator (=, ==, !=, in, notin), ',' or end of input after key %q, found %s", key.text, op.describe())
	}
}

// valueList parses `(v1, v2)`; an element may be empty, `(a,)` is {"a", ""},
// and as in Kubernetes `()` is {""}, which is also how that set renders.
func (p *parser) valueList(op token) ([]string, error) {
	if t := p.next(); t.kind != tokLParen {
		return nil, p.errorf(t, "expected '(' after %q, found %s", op.text, t.describe())
	}
	if p.peek().kind == tokRParen {
		p.next()
		return []string{""}, nil
	}
	var values []string
	for {
		v := ""
		if isWord(p.peek()) {
			v = p.next().text
		}
		values = append(values, v)
		switch t := p.next(); t.kind {
		case tokComma:
		case tokRParen:
			return values, nil
		default:
			return nil, p.errorf(t, "expected ',' or ')' in the value list of %q, found %s", op.text, t.describe())
		}
	}
}

func (p *parser) build(key token, op Operator, values []string) (Requirement, error) {
	r, err := NewRequirement(key.text, op, values)
	if err != nil {
		// NewRequirement's message names the key and value; add where it is.
		msg := strings.TrimPrefix(err.Error(), ErrInvalidSelector.Error()+": ")
		return Requirement{}, p.errorf(key, "%s", msg)
	}
	return r, nil
}

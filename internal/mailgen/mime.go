package mailgen

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
)

// traceHeaders writes Return-Path, Received and a DKIM-Signature, the
// headers a delivering MTA prepends and that clients must skip over.
func (g *generator) traceHeaders(b *bytes.Buffer, date time.Time, from person, list *mailingList) {
	r := g.rng
	returnPath := from.addr()
	signer := from.domain
	if list != nil {
		returnPath = list.name + "-bounces@" + list.host()
		signer = list.host()
	}
	writeHeader(b, "Return-Path", "<"+returnPath+">")
	delivered := date.UTC().Add(time.Duration(1+r.IntN(20)) * time.Second)
	mx := "mx" + strconv.Itoa(1+r.IntN(3)) + "." + signer
	writeHeader(b, "Received", "from "+mx+" ("+mx+" ["+g.docIP()+"]) by mx.example.com (Postfix) with ESMTPS id "+
		g.queueID()+" for <"+g.owner.addr()+">; "+delivered.Format(dateLayout)+" (UTC)")
	client := g.docIP()
	writeHeader(b, "Received", "from ["+client+"] (unknown ["+client+"]) by smtp."+signer+
		" (Postfix) with ESMTPSA id "+g.queueID()+"; "+date.Format(dateLayout))
	if r.IntN(3) != 0 {
		bh := g.randomBytes(32, "")
		sig := g.randomBytes(128, "")
		writeHeader(b, "DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d="+signer+
			"; s=selector"+strconv.Itoa(1+r.IntN(2))+"; t="+strconv.FormatInt(date.Unix(), 10)+
			"; h=from:to:subject:date:message-id:mime-version; bh="+
			base64.StdEncoding.EncodeToString(bh)+"; b="+chunked(base64.StdEncoding.EncodeToString(sig), 64))
	}
}

// chunked inserts spaces so writeHeader can fold a long base64 value; DKIM
// ignores whitespace inside b= for exactly this reason.
func chunked(s string, n int) string {
	var out []byte
	for len(s) > n {
		out = append(out, s[:n]...)
		out = append(out, ' ')
		s = s[n:]
	}
	return string(append(out, s...))
}

// docIP returns an address from the RFC 5737 documentation ranges.
func (g *generator) docIP() string {
	nets := [...]string{"192.0.2.", "198.51.100.", "203.0.113."}
	return nets[g.rng.IntN(len(nets))] + strconv.Itoa(1+g.rng.IntN(254))
}

// queueID looks like a Postfix long queue ID.
func (g *generator) queueID() string {
	return "4" + strconv.FormatUint(g.rng.Uint64()>>8, 36)
}

// listHeaders writes the RFC 2369/2919/8058 headers list software adds.
func listHeaders(b *bytes.Buffer, l mailingList) {
	name, id, host := l.name, l.id, l.host()
	writeHeader(b, "List-Id", "<"+id+">")
	writeHeader(b, "List-Unsubscribe", "<mailto:"+name+"-unsubscribe@"+host+">, <https://"+host+"/unsubscribe/"+name+">")
	writeHeader(b, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	writeHeader(b, "List-Post", "<mailto:"+name+"@"+host+">")
	writeHeader(b, "List-Archive", "<https://"+host+"/archive/"+name+"/>")
	writeHeader(b, "Precedence", "list")
}

// boundary is random-looking but deterministic; the index guarantees it
// differs between nesting levels of the same message.
func (g *generator) boundary(level int) string {
	return "----=_Part_" + strconv.Itoa(level) + "_" + strconv.FormatUint(g.rng.Uint64(), 36)
}

// writeBody writes Content-Type and the body for kind k.
func (g *generator) writeBody(b *bytes.Buffer, c *content, k kind, i, attSize int) {
	text := textBody(&g.text, c)
	switch k {
	case kindPlain:
		g.writeTextPart(b, "text/plain", text)
	case kindAlternative:
		g.writeAlternative(b, c, text, 0)
	case kindMixed:
		bnd := g.boundary(0)
		writeHeader(b, "Content-Type", `multipart/mixed; boundary="`+bnd+`"`)
		b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
		b.WriteString("\r\n--" + bnd + "\r\n")
		if g.rng.IntN(2) == 0 {
			g.writeAlternative(b, c, text, 1)
		} else {
			g.writeTextPart(b, "text/plain", text)
		}
		b.WriteString("\r\n--" + bnd + "\r\n")
		g.writeAttachment(b, i, attSize)
		b.WriteString("\r\n--" + bnd + "--\r\n")
	}
}

func (g *generator) writeTextPart(b *bytes.Buffer, ctype string, body []byte) {
	cte := g.bodyCTE(body)
	writeHeader(b, "Content-Type", ctype+"; charset=utf-8")
	writeHeader(b, "Content-Transfer-Encoding", cte)
	b.WriteString("\r\n")
	writeEncoded(b, body, cte)
}

func (g *generator) writeAlternative(b *bytes.Buffer, c *content, text []byte, level int) {
	bnd := g.boundary(level)
	writeHeader(b, "Content-Type", `multipart/alternative; boundary="`+bnd+`"`)
	b.WriteString("\r\n--" + bnd + "\r\n")
	g.writeTextPart(b, "text/plain", text)
	b.WriteString("\r\n--" + bnd + "\r\n")
	g.writeTextPart(b, "text/html", htmlBody(&g.html, c))
	b.WriteString("\r\n--" + bnd + "--\r\n")
}

// writeAttachment writes a base64 part of size decoded bytes.
func (g *generator) writeAttachment(b *bytes.Buffer, i, size int) {
	ak := attachmentKinds[g.rng.IntN(len(attachmentKinds))]
	name := fillNumber(ak.name, 1000+i)
	writeHeader(b, "Content-Type", ak.contentType+`; name="`+name+`"`)
	writeHeader(b, "Content-Disposition", `attachment; filename="`+name+`"; size=`+strconv.Itoa(size))
	writeHeader(b, "Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	writeBase64(b, g.randomBytes(size, ak.magic))
}

package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/imapfault/imapfault/status"
)

// Geometry of the waterfall, in SVG user units (the chart scales to the
// page width; these fix its proportions and the text size within it).
const (
	wfWidth   = 760.0
	wfLabelW  = 110.0 // step names, right-aligned before the plot
	wfValueW  = 136.0 // durations, after the plot
	wfAxisH   = 22.0  // tick labels above the rows
	wfRowH    = 24.0
	wfBarH    = 14.0
	wfMinBar  = 2.0 // a step too short to see still shows as a sliver
	wfPlotX   = wfLabelW + 8
	wfPlotEnd = wfWidth - wfValueW
)

// waterfall is the steps drawn to one time scale: each bar starts where
// the previous step ended, as the tester walks them one after another.
type waterfall struct {
	Width, Height float64
	LabelX        float64 // where the step names end
	ValueX        float64 // where the durations begin
	BarH          float64
	Bars          []wfBar
	Ticks         []wfTick
	Desc          string // the chart in words, for screen readers
}

type wfBar struct {
	Phase, Class, Title, Value string
	X, Y, W, TextY             float64
}

type wfTick struct {
	X     float64
	Label string
}

func newWaterfall(steps []stepRow, total time.Duration) waterfall {
	wf := waterfall{Width: wfWidth, Height: wfAxisH + float64(len(steps))*wfRowH + 4, LabelX: wfLabelW, ValueX: wfPlotEnd + 4, BarH: wfBarH}
	if total <= 0 {
		total = time.Millisecond
	}
	scale := (wfPlotEnd - wfPlotX - 8) / float64(total)
	step := time.Duration(niceStep(float64(total), 4))
	for t := time.Duration(0); t <= total; t += step {
		wf.Ticks = append(wf.Ticks, wfTick{X: wfPlotX + float64(t)*scale, Label: tickLabel(t, step)})
	}
	var said []string
	for i, s := range steps {
		y := wfAxisH + float64(i)*wfRowH
		b := wfBar{
			Phase: s.Phase,
			Class: s.State.String(),
			X:     wfPlotX + float64(s.Start)*scale,
			Y:     y + (wfRowH-wfBarH)/2,
			W:     max(float64(s.Duration)*scale, wfMinBar),
			TextY: y + wfRowH/2,
			Value: humanDuration(s.Duration),
		}
		b.Title = fmt.Sprintf("%s: %s, %s, from %s", s.Phase, b.Value, words[s.State], humanDuration(s.Start))
		if s.Note != "" {
			b.Title += ". " + s.Note
		}
		if s.State != status.OK {
			b.Value += " " + words[s.State]
		}
		wf.Bars = append(wf.Bars, b)
		said = append(said, fmt.Sprintf("%s %s %s", s.Phase, humanDuration(s.Duration), words[s.State]))
	}
	wf.Desc = fmt.Sprintf("%d steps over %s: %s.", len(steps), humanDuration(total), strings.Join(said, "; "))
	return wf
}

// tickLabel prints a tick in the unit its spacing calls for.
func tickLabel(t, step time.Duration) string {
	switch {
	case t == 0:
		return "0"
	case step >= time.Second:
		return fmt.Sprintf("%g s", t.Seconds())
	case step >= time.Millisecond:
		return fmt.Sprintf("%g ms", float64(t)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%g µs", float64(t)/float64(time.Microsecond))
}

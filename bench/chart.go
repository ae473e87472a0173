package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// series is one line of the chart.
type series struct {
	name   string
	pts    []sample
	color  color.RGBA
	dashed bool
}

// chartSeries are the runs to draw: the fleets, the loop and the budget line — the
// most portals the Okta limit lets through by then, at the fleet's own calls per portal.
func (rep *report) chartSeries() []series {
	var out []series
	add := func(r *fleetRun, name string, c color.RGBA) {
		if r != nil {
			out = append(out, series{name: name, pts: r.Samples, color: c})
		}
	}
	add(rep.Budget, fmt.Sprintf("1 worker, budget %d/min", budgetOf(rep.Budget)), color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff})
	add(rep.TwoWorkers, fmt.Sprintf("2 workers, one budget %d/min", budgetOf(rep.TwoWorkers)), color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff})
	add(rep.Unlimited, "1 worker, no limits", color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff})
	if l := rep.Loop; l != nil {
		out = append(out, series{name: "sequential loop, no Temporal", pts: l.Samples, color: color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}})
	}
	if r := rep.Budget; r != nil && r.rate() > 0 && r.mgmtCalls() > 0 {
		perPortal := float64(r.mgmtCalls()) / float64(r.Portals)
		end := float64(r.Portals) * perPortal / r.rate()
		out = append(out, series{name: fmt.Sprintf("budget line: %d/min ÷ %.1f calls per portal", r.Limits.OktaManagement.PerMinute, perPortal),
			pts: []sample{{T: 0, Done: 0}, {T: end, Done: r.Portals}}, color: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, dashed: true})
	}
	return out
}

func budgetOf(r *fleetRun) int {
	if r == nil {
		return 0
	}
	return r.Limits.OktaManagement.PerMinute
}

// writeChart draws portals done over time for every run, against the budget line.
func writeChart(path string, rep *report) error {
	p := plot.New()
	p.Title.Text = "dcrflow fleets: portals done over time"
	p.X.Label.Text = "seconds since the fleet started"
	p.Y.Label.Text = "portals done"
	p.Add(plotter.NewGrid())
	top := 0
	for _, s := range rep.chartSeries() {
		for _, pt := range s.pts {
			top = max(top, pt.Done)
		}
		xys := make(plotter.XYs, 0, len(s.pts)+1)
		xys = append(xys, plotter.XY{})
		for _, pt := range s.pts {
			xys = append(xys, plotter.XY{X: pt.T, Y: float64(pt.Done)})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = s.color, vg.Points(1.5)
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		}
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	// Headroom above the fleets, which every line ends at or below, holds the legend.
	p.Y.Min, p.Y.Max = 0, float64(top)*1.4
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(10), -vg.Points(5)
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

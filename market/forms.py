from django import forms

from market.models import AssetClass


class InstrumentFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        max_length=50,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Symbol or name"}),
    )
    asset_class = forms.ChoiceField(
        label="Asset class", required=False, choices=[("", "All classes"), *AssetClass.choices]
    )

    def filters(self) -> dict:
        """Selector arguments; invalid input filters nothing rather than failing the page."""
        if not self.is_valid():
            return {"asset_class": None, "q": None}
        return {
            "asset_class": self.cleaned_data["asset_class"] or None,
            "q": self.cleaned_data["q"] or None,
        }
